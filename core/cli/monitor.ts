/** `qlog monitor [-c CID] <CONFIG>`: qlog's enclave side, on a qlog config file. */
import { runQlogRole } from './qlog-role.js';
import { checkTransport, EXTENSION_OPTIONS, extensionHelp, parseCid } from '../qlog-compat/cli-options.js';
import { vsockAddress } from '../qlog-compat/translate.js';
import { VSOCK_CID_ANY } from '../transport/constants.js';
import { UsageError, type Command } from './command.js';
import { parse } from './args.js';

const usage = `Monitor logs and/or resource usage

Usage: qlog monitor [OPTIONS] <CONFIG>

Arguments:
  <CONFIG>  A configuration file in yaml format, which defines items to be monitored

Options:
  -c, --cid <CID>  CID to listen on (defaults to VMADDR_CID_ANY) [default: 4294967295]
  -h, --help       Print help
${extensionHelp('monitor')}`;

const command: Command = {
  summary: 'Monitor resource usage',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { cid: { type: 'string', short: 'c' }, ...EXTENSION_OPTIONS }, usage);
    if (positionals.length === 0) throw new UsageError('QLOG_ERR_USAGE/missing-args', { missing: '<CONFIG>' }, usage);
    if (positionals.length > 1) throw new UsageError('QLOG_ERR_USAGE/unexpected-arg', { arg: positionals[1]! }, usage);
    const file = positionals[0]!;
    const opts = {
      role: 'monitor' as const,
      cid: values.cid === undefined ? VSOCK_CID_ANY : parseCid(values.cid, '--cid <CID>', usage),
      transport: checkTransport(values.transport, usage),
      stateDir: values['state-dir'],
      httpListen: values['http-listen'],
      display: file,
    };
    return runQlogRole(
      file,
      opts,
      values['print-config'],
      (qlog, log) => `qlog monitor: listening on ${vsockAddress(qlog, opts)}, ${qlog.monitor_items.length} items; log: ${log}`,
    );
  },
};
export default command;
