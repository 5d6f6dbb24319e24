/** `qlog new-plugin`: writes a ready npm package for an input, filter or output plugin. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError, type IdsOf } from '../errors.js';
import type { PluginKind } from '../plugin/define.js';
import { VERSION } from '../version.js';
import { KINDS, schemaSource } from './scaffold-kinds.js';
import { docsScript, gitignore, packageJson, readme, tsconfig, tsconfigBuild } from './scaffold-package.js';
import { makeDir } from '../make-dir.js';

export interface ScaffoldOptions {
  /** Package name (`qlog-plugin-foo`, `@me/qlog-plugin-foo`) or plugin name (`foo` -> qlog-plugin-foo). */
  name: string;
  kind: PluginKind;
  /** Target directory (default ./<package name without scope>). */
  dir?: string;
  /** Write into a non-empty directory, overwriting the files it generates. */
  force?: boolean;
  /** qlog range the plugin declares (default ^<this qlog's version>). */
  range?: string;
}

export interface ScaffoldResult {
  dir: string;
  pkg: string;
  name: string;
  files: string[];
}

const PACKAGE_RE = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const PLUGIN_RE = /^[a-z][a-z0-9_-]*$/;

/** What the user asked for cannot be scaffolded (a usage error: `qlog new-plugin` prints it). */
export class ScaffoldError<I extends IdsOf<'QLOG_ERR_USAGE'> = IdsOf<'QLOG_ERR_USAGE'>> extends UsageError<I> {
  override name = 'ScaffoldError';
}

/** Package name and config name for what the user typed. */
export function names(input: string): { pkg: string; name: string } {
  const pkg = input.startsWith('@') || input.startsWith('qlog-plugin-') ? input : `qlog-plugin-${input}`;
  if (!PACKAGE_RE.test(pkg) || pkg.length > 214) throw new ScaffoldError('QLOG_ERR_USAGE/package-name', { input });
  const base = pkg.replace(/^@[^/]+\//, '');
  const name = base.startsWith('qlog-plugin-') ? base.slice('qlog-plugin-'.length) : base;
  if (!PLUGIN_RE.test(name)) throw new ScaffoldError('QLOG_ERR_USAGE/plugin-name', { name, input });
  return { pkg, name };
}

export function scaffold(opts: ScaffoldOptions): ScaffoldResult {
  const template = KINDS[opts.kind];
  if (!template) throw new ScaffoldError('QLOG_ERR_USAGE/kind', { kind: String(opts.kind) });
  const { pkg, name } = names(opts.name);
  const dir = resolve(opts.dir ?? pkg.replace(/^@[^/]+\//, ''));
  if (existsSync(dir) && readdirSync(dir).length > 0 && !opts.force) {
    throw new ScaffoldError('QLOG_ERR_USAGE/dir-not-empty', { dir });
  }
  const range = opts.range ?? `^${VERSION}`;
  const p = { pkg, name, kind: opts.kind, range, template };
  const files: Record<string, string> = {
    'package.json': packageJson(p),
    'tsconfig.json': tsconfig,
    'tsconfig.build.json': tsconfigBuild,
    '.gitignore': gitignore,
    'README.md': readme(p),
    'src/schema.ts': schemaSource(template.schema),
    'src/index.ts': template.source(name, range),
    [`test/${name}.test.ts`]: template.test(name),
    'scripts/docs.ts': docsScript,
  };
  for (const [rel, text] of Object.entries(files)) {
    const file = join(dir, rel);
    makeDir(dirname(file));
    writeFileSync(file, text);
  }
  return { dir, pkg, name, files: Object.keys(files) };
}
