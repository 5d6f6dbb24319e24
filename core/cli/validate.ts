import { resolve } from 'node:path';
import { builtinRegistry } from '../builtins.js';
import { loadConfig } from '../config/load.js';
import { UsageError, type Command } from './command.js';
import { parse } from './args.js';

const usage = `Check a config file without running it: prints OK, or every error as file:line:column.

Usage: qlog validate <config.yaml>
`;

const command: Command = {
  summary: 'Check a config file (dry run): OK or every error with file:line:column',
  usage,
  async run(argv) {
    const { positionals } = parse(argv, {}, usage);
    if (positionals.length !== 1) throw new UsageError('QLOG_ERR_USAGE/one-config', {}, usage);
    const file = positionals[0]!;
    const c = await loadConfig(resolve(file), builtinRegistry(), { display: file });
    process.stdout.write(`${file}: OK (${c.inputs.length} inputs, ${c.filters.length} filters, ${c.outputs.length} outputs)\n`);
    return 0;
  },
};
export default command;
