/** `qlog migrate <config_qlog.toml>`: print the native YAML equivalent of a qlog config. */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { builtinRegistry } from '../builtins.js';
import { loadConfigFrom } from '../config/load.js';
import { ConfigSource } from '../config/source.js';
import { readQlogConfig } from '../qlog-compat/load.js';
import { checkTransport, parseCid } from '../qlog-compat/cli-options.js';
import { translate, type Role, type TranslateOptions } from '../qlog-compat/translate.js';
import { UsageError, type Command } from './command.js';
import { parse } from './args.js';
import { makeDir } from '../make-dir.js';

/** Placeholder for the enclave's CID when --cid is not given: an env reference with the guide's CID as default. */
const CID_PLACEHOLDER = '${ENCLAVE_CID:-4}';

const usage = `Print the native config (YAML) equivalent of a qlog config: the enclave side (qlog monitor)
and the parent side (qlog receive-file), as two YAML documents.

Usage: qlog migrate [OPTIONS] <CONFIG>

Arguments:
  <CONFIG>  A qlog configuration file (YAML content, e.g. config_qlog.toml)

Options:
      --role <ROLE>          Print only one side: monitor (enclave) or receive-file (parent); the output
                             is then a single config that "qlog run" accepts
  -c, --cid <CID>            monitor: CID to listen on [default: any];
                             receive-file: the enclave's CID [default: \${ENCLAVE_CID:-4}, read at run time]
  -w, --workspace <DIR>      receive-file: workspace, prior to the configuration file
      --transport <URI>      Use this address instead of vsock://<CID>:<port> (unix://, tcp://, vsock+unix://)
      --state-dir <DIR>      Offsets and delivery state [default: <workspace>/.qlog-state/<role>]
  -o, --out-dir <DIR>        Write enclave.yaml and parent.yaml (or <role>.yaml) there instead of printing
  -h, --help                 Print help

Relative paths in the qlog config are made absolute against the current directory, as qlog resolved them.
`;

const command: Command = {
  summary: 'Print the native YAML equivalent of a qlog config (enclave and parent sides)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        role: { type: 'string' },
        cid: { type: 'string', short: 'c' },
        workspace: { type: 'string', short: 'w' },
        transport: { type: 'string' },
        'state-dir': { type: 'string' },
        'out-dir': { type: 'string', short: 'o' },
      },
      usage,
    );
    if (positionals.length !== 1) throw new UsageError('QLOG_ERR_USAGE/one-qlog-config', {}, usage);
    const role = values.role;
    if (role !== undefined && role !== 'monitor' && role !== 'receive-file') throw new UsageError('QLOG_ERR_USAGE/role', { found: role }, usage);
    const file = positionals[0]!;
    const qlog = readQlogConfig(resolve(file), file);
    const cid = values.cid === undefined ? undefined : parseCid(values.cid, '--cid <CID>', usage);
    const roles: Role[] = role ? [role] : ['monitor', 'receive-file'];
    const texts: [Role, string][] = [];
    for (const r of roles) {
      const o: TranslateOptions = {
        role: r,
        cid: r === 'receive-file' ? (cid ?? CID_PLACEHOLDER) : cid,
        workspace: values.workspace === undefined ? undefined : resolve(values.workspace),
        transport: checkTransport(values.transport, usage),
        stateDir: values['state-dir'],
        cwd: process.cwd(),
        source: file,
      };
      const yaml = translate(qlog, o);
      // The printed config must load: check it as `qlog run` would (the CID placeholder gets its default).
      await loadConfigFrom(ConfigSource.parse(yaml, `${file} (translated for ${r})`), resolve(dirname(file)), builtinRegistry(), {
        loadPlugins: false,
        env: { ...process.env },
      });
      texts.push([r, yaml]);
    }
    const fileName = (r: Role) => (role ? `${r}.yaml` : r === 'monitor' ? 'enclave.yaml' : 'parent.yaml');
    if (values['out-dir']) {
      makeDir(values['out-dir']);
      for (const [r, yaml] of texts) {
        const path = join(values['out-dir'], fileName(r));
        writeFileSync(path, yaml);
        process.stderr.write(`wrote ${path} (${r === 'monitor' ? 'enclave side: qlog run' : 'parent side: qlog run'} ${path})\n`);
      }
      return 0;
    }
    if (texts.length === 1) process.stdout.write(texts[0]![1]);
    else process.stdout.write(texts.map(([r, y]) => `# ---- ${fileName(r)} ----\n${y}`).join('---\n'));
    return 0;
  },
};
export default command;
