import { resolve } from 'node:path';
import { runAgent } from '../agent.js';
import { builtinRegistry } from '../builtins.js';
import { loadConfig } from '../config/load.js';
import { UsageError, type Command } from './command.js';
import { parse } from './args.js';

const usage = `Run the agent on a config file until SIGTERM/SIGINT (SIGHUP reloads the file).

Usage: qlog run <config.yaml>
       qlog -c <config.yaml>
`;

const command: Command = {
  summary: 'Run the agent on a config file (YAML, Fluent Bit layout)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { config: { type: 'string', short: 'c' } }, usage);
    const file = values.config ?? positionals[0];
    if (!file || positionals.length > (values.config ? 0 : 1)) throw new UsageError('QLOG_ERR_USAGE/one-config', {}, usage);
    const path = resolve(file);
    const load = () => loadConfig(path, builtinRegistry(), { display: file }).then((c) => ({ ...c, file }));
    return runAgent(await load(), load);
  },
};
export default command;
