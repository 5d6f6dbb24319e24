import { relative } from 'node:path';
import { scaffold } from '../scaffold/scaffold.js';
import type { PluginKind } from '../plugin/define.js';
import { UsageError, type Command } from './command.js';
import { parse } from './args.js';
import { VERSION } from '../version.js';

const usage = `Write a ready npm package for a new plugin: TypeScript source with schema and setup,
a test using qlog/testing, a README with the options table, package.json (peer dependency on qlog).

Usage: qlog new-plugin <name> --kind input|filter|output [--dir <path>] [--force]

  name              npm package name (qlog-plugin-foo, @me/qlog-plugin-foo) or plugin name
                    (foo: the package is qlog-plugin-foo); the name in config is "foo"
  -k, --kind        input, filter or output
  -d, --dir         Directory to write (default ./<package name>); must be empty
  --force           Write into a non-empty directory, overwriting the generated files

Then: cd <dir>, give it qlog (not on the npm registry: npm install --save-dev /path/to/qlog-<version>.tgz,
or npm link qlog after npm link in the qlog checkout), npm install && npm test.
Guide: docs/plugins.md in the qlog package; installing qlog: docs/getting-started.md.
`;

const command: Command = {
  summary: 'Create an npm package for a new input, filter or output plugin',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { kind: { type: 'string', short: 'k' }, dir: { type: 'string', short: 'd' }, force: { type: 'boolean' } },
      usage,
    );
    if (positionals.length !== 1) throw new UsageError('QLOG_ERR_USAGE/one-plugin-name', {}, usage);
    if (!values.kind) throw new UsageError('QLOG_ERR_USAGE/kind-required', {}, usage);
    if (!['input', 'filter', 'output'].includes(values.kind)) throw new UsageError('QLOG_ERR_USAGE/kind', { kind: values.kind });
    // A ScaffoldError is a UsageError: main() prints it like the others.
    const r = scaffold({ name: positionals[0]!, kind: values.kind as PluginKind, dir: values.dir, force: values.force });
    const rel = relative(process.cwd(), r.dir) || '.';
    process.stdout.write(`Created ${r.pkg} (${values.kind} plugin "${r.name}") in ${rel}:
${r.files.map((f) => `  ${f}`).join('\n')}

Next:
  cd ${rel}
  npm install --save-dev /path/to/qlog-${VERSION}.tgz   # qlog, the peer dependency: not on the npm registry
                                                        # (npm pack in the qlog checkout; or: npm link qlog)
  npm install     # typescript, tsx
  npm test        # type-check and run test/${r.name}.test.ts
`);
    return 0;
  },
};
export default command;
