import { resolve } from 'node:path';
import { builtinRegistry } from '../builtins.js';
import { loadConfig } from '../config/load.js';
import { optionRows, textTable } from '../docs/options-table.js';
import { commonProperties } from '../config/common.js';
import { UsageError, type Command } from './command.js';
import { parse } from './args.js';
import { didYouMean } from '../errors.js';

const usage = `List the plugins, or show one plugin's options.

Usage: qlog plugins [name] [--json] [--config <config.yaml>]

  name              Show this plugin's options (type, default, description)
  --json            Machine-readable: kind, name, description, origin and JSON Schema of each plugin
  -c, --config      Also load the third-party plugins named in this config's service.plugins
`;

const command: Command = {
  summary: "List plugins, or show one plugin's options (--json for schemas)",
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { json: { type: 'boolean' }, config: { type: 'string', short: 'c' } }, usage);
    const registry = builtinRegistry();
    if (values.config) await loadConfig(resolve(values.config), registry, { display: values.config });
    let list = registry.list();
    if (positionals.length) {
      list = list.filter((p) => positionals.includes(p.name));
      const missing = positionals.filter((n) => !list.some((p) => p.name === n));
      if (missing.length)
        throw new UsageError('QLOG_ERR_USAGE/unknown-plugin', {
          names: missing.map((m) => `"${m}"`).join(', '),
          hint: didYouMean(missing[0]!, registry.names()),
          available: registry.names().join(', '),
        });
    }
    if (values.json) {
      const out = list.map((p) => ({
        kind: p.kind,
        name: p.name,
        description: p.description,
        qlog: p.qlog,
        origin: registry.origin(p),
        schema: p.schema,
        common: commonProperties[p.kind],
      }));
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }
    if (positionals.length) {
      for (const p of list) {
        process.stdout.write(
          `${p.name} (${p.kind}, ${registry.origin(p)}): ${p.description}\n\nOptions:\n${textTable(optionRows(p))}\nCommon ${p.kind} options:\n${textTable(optionRows(p, true).slice(optionRows(p).length))}\n`,
        );
      }
      return 0;
    }
    for (const kind of ['input', 'filter', 'output'] as const) {
      const ps = list.filter((p) => p.kind === kind);
      if (!ps.length) continue;
      process.stdout.write(`${kind}s:\n`);
      for (const p of ps)
        process.stdout.write(`  ${p.name.padEnd(16)}${p.description}${registry.origin(p) === 'built-in' ? '' : ` [${registry.origin(p)}]`}\n`);
    }
    process.stdout.write('\nRun "qlog plugins <name>" for a plugin\'s options.\n');
    return 0;
  },
};
export default command;
