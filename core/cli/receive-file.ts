/** `qlog receive-file [-w DIR] <CID> <CONFIG>`: qlog's parent side, on a qlog config file. */
import { resolve } from 'node:path';
import { runQlogRole } from './qlog-role.js';
import { checkTransport, EXTENSION_OPTIONS, extensionHelp, parseCid } from '../qlog-compat/cli-options.js';
import { roleWorkspace, vsockAddress } from '../qlog-compat/translate.js';
import { UsageError, type Command } from './command.js';
import { parse } from './args.js';

const usage = `Receive data from qlog monitor

Usage: qlog receive-file [OPTIONS] <CID> <CONFIG>

Arguments:
  <CID>     Enclave VM's CID
  <CONFIG>  A configuration file in yaml format, which defines items to be monitored

Options:
  -w, --workspace <WORKSPACE>  Set to workspace if specified, prior to configuration file
  -h, --help                   Print help
${extensionHelp('receive-file')}`;

const command: Command = {
  summary: 'Receive data from qlog monitor',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { workspace: { type: 'string', short: 'w' }, ...EXTENSION_OPTIONS }, usage);
    if (positionals.length !== 2) {
      const missing = ['<CID>', '<CONFIG>'].slice(positionals.length).join(' ');
      throw positionals.length > 2
        ? new UsageError('QLOG_ERR_USAGE/unexpected-arg', { arg: positionals[2]! }, usage)
        : new UsageError('QLOG_ERR_USAGE/missing-args', { missing }, usage);
    }
    const [cidText, file] = positionals as [string, string];
    const opts = {
      role: 'receive-file' as const,
      cid: parseCid(cidText, '<CID>', usage),
      workspace: values.workspace === undefined ? undefined : resolve(values.workspace),
      transport: checkTransport(values.transport, usage),
      stateDir: values['state-dir'],
      httpListen: values['http-listen'],
      display: file,
    };
    return runQlogRole(
      file,
      opts,
      values['print-config'],
      (qlog, log) =>
        `qlog receive-file: connecting to ${vsockAddress(qlog, opts)}, writing ${qlog.monitor_items.length} files in ${roleWorkspace(qlog, { ...opts, cwd: process.cwd() })}; log: ${log}`,
    );
  },
};
export default command;
