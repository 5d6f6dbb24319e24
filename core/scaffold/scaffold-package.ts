/** Package-level files of `qlog new-plugin`: package.json, tsconfigs, README, docs script, .gitignore. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PluginKind } from '../plugin/define.js';
import { PACKAGE_ROOT } from '../version.js';
import { markdownTable, optionRows } from '../docs/options-table.js';
import type { AnyPlugin } from '../plugin/define.js';
import type { KindTemplate } from './scaffold-kinds.js';

export interface PackageParams {
  pkg: string;
  name: string;
  kind: PluginKind;
  /** The qlog range the plugin declares and peer-depends on, e.g. ^0.1.0. */
  range: string;
  template: KindTemplate;
}

/** Versions of the dev tools qlog itself is built with (so an offline npm cache has them). */
function devVersions(): Record<string, string> {
  const fallback: Record<string, string> = { '@types/node': '^20.19.0', tsx: '^4.20.0', typescript: '~5.9' };
  try {
    const pj = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
    const dev = pj.devDependencies ?? {};
    for (const k of Object.keys(fallback)) if (dev[k]) fallback[k] = dev[k];
  } catch {
    /* keep the fallback */
  }
  return fallback;
}

export function packageJson(p: PackageParams): string {
  const dev = devVersions();
  const pj = {
    name: p.pkg,
    version: '0.1.0',
    description: `qlog ${p.kind} plugin "${p.name}": ${p.template.description}`,
    type: 'module',
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    files: ['dist', 'README.md'],
    keywords: ['qlog', 'qlog-plugin', `qlog-${p.kind}`],
    license: 'ISC',
    engines: { node: '>=20' },
    scripts: {
      build: 'tsc -p tsconfig.build.json',
      test: 'tsc -p tsconfig.json && node --import tsx --test test/*.test.ts',
      docs: 'node --import tsx scripts/docs.ts',
      prepack: 'npm run build',
    },
    // npm (7+) installs peer dependencies, so `npm install` brings qlog for development too;
    // users install the plugin next to their qlog.
    peerDependencies: { qlog: p.range },
    devDependencies: { '@types/node': dev['@types/node'], tsx: dev.tsx, typescript: dev.typescript },
  };
  return `${JSON.stringify(pj, null, 2)}\n`;
}

/** Type-checks everything (sources, tests, scripts) without emitting: `npm test` runs it. */
export const tsconfig = `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true,
    "types": ["node"]
  },
  "include": ["src", "test", "scripts"]
}
`;

/** Compiles src/ to dist/ with declarations: `npm run build` (and `npm pack` / `npm publish`). */
export const tsconfigBuild = `{
  "extends": "./tsconfig.json",
  "compilerOptions": {
    "noEmit": false,
    "declaration": true,
    "sourceMap": true,
    "rootDir": "src",
    "outDir": "dist"
  },
  "include": ["src"]
}
`;

export const docsScript = `// npm run docs: rewrites the options table of README.md from the schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { withOptionsTable } from 'qlog/testing';
import plugin from '../src/index.js';

const file = new URL('../README.md', import.meta.url);
writeFileSync(file, withOptionsTable(readFileSync(file, 'utf8'), plugin));
`;

export const gitignore = `node_modules/
dist/
*.tgz
`;

export function readme(p: PackageParams): string {
  const fake = { kind: p.kind, name: p.name, schema: p.template.schema } as unknown as AnyPlugin;
  return `# ${p.pkg}

A [qlog](https://www.npmjs.com/package/qlog) ${p.kind} plugin: ${p.template.description}

Works with qlog ${p.range}.

## Install

In the directory of your qlog config file (or any parent of it):

\`\`\`sh
npm install ${p.pkg}
\`\`\`

## Use

\`\`\`yaml
service:
  plugins: [${p.pkg}]
pipeline:
${p.template.example(p.name, p.pkg)}
\`\`\`

Check it with \`qlog validate config.yaml\`, see its options with \`qlog plugins ${p.name} -c config.yaml\`.

## Options

<!-- options -->
${markdownTable(optionRows(fake))}<!-- /options -->

Plus the options every ${p.kind} has (${p.kind === 'input' ? '`tag`, `alias`, `buffer_limit`' : p.kind === 'filter' ? '`match`, `alias`' : '`match`, `alias`, `buffer_limit`, `workers`, `retry_limit` ...'}): see \`qlog plugins ${p.name}\`.

## Develop

\`\`\`sh
npm install        # qlog (peer dependency), typescript, tsx
npm test           # type-check, then the tests in test/ (they use qlog/testing)
npm run docs       # after changing src/schema.ts: regenerate the table above
npm publish        # builds dist/ first (prepack)
\`\`\`
`;
}
