/**
 * Loads third-party plugins named in service.plugins (npm package names or paths), ESM or CJS,
 * and checks brand, host version range, kind, schema and name clashes (fastify-plugin style).
 *
 * Packages resolve like `import` would from the config file's directory (then the working
 * directory): node_modules lookup upwards, package.json "exports" with the import/node/default
 * conditions (require as a fallback), else "main", else index.js.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lazyModule } from '../lazy.js';
import { withTimeout } from '../timeout.js';
import { QlogError } from '../errors.js';
import { VERSION, VERSION_RANGE } from '../version.js';
import { hostPermanentError, isPlugin, type AnyPlugin } from './define.js';
import type { PluginRegistry } from './registry.js';
import { compile } from '../config/validate.js';
import { entrySchema } from '../config/common.js';

const semver = lazyModule<typeof import('semver')>('semver');

const KINDS = new Set(['input', 'filter', 'output']);
const NAME_RE = /^[a-z][a-z0-9_-]*$/;
/** How long importing one plugin module may take (a module with a hanging top-level await). */
export const IMPORT_TIMEOUT_MS = 10_000;

// CommonJS plugins get qlog's CJS entry (dist/core/index.cjs), a separate copy of the SDK's
// runtime. Its PermanentError links itself to this class so the engine's instanceof holds.
hostPermanentError();

function isPathSpec(spec: string): boolean {
  return spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..' || isAbsolute(spec) || spec.startsWith('file:');
}

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
export function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

const IMPORT_CONDITIONS = ['node', 'import', 'default'];
const REQUIRE_CONDITIONS = ['node', 'require', 'default'];

/** Resolve one "exports" target for the given conditions (Node's algorithm: object keys in order). */
function exportsTarget(target: unknown, conditions: readonly string[], star: string | undefined): string | undefined {
  if (typeof target === 'string') return star === undefined ? target : target.replaceAll('*', star);
  if (Array.isArray(target)) {
    for (const t of target) {
      const r = exportsTarget(t, conditions, star);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  if (target && typeof target === 'object') {
    for (const [k, v] of Object.entries(target)) {
      if (!conditions.includes(k)) continue;
      const r = exportsTarget(v, conditions, star);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

/** The file `subpath` ('.' or './x') of a package maps to through its "exports". */
function resolveExports(exp: unknown, subpath: string): string | undefined {
  const map =
    exp && typeof exp === 'object' && !Array.isArray(exp) && Object.keys(exp).some((k) => k.startsWith('.')) ? (exp as Record<string, unknown>) : { '.': exp };
  let target: unknown;
  let star: string | undefined;
  if (subpath in map) target = map[subpath];
  else {
    // Subpath patterns ("./*": "./dist/*.js"): the longest matching prefix wins.
    let best = '';
    for (const key of Object.keys(map)) {
      const i = key.indexOf('*');
      if (i < 0) continue;
      const pre = key.slice(0, i);
      const post = key.slice(i + 1);
      if (subpath.startsWith(pre) && subpath.endsWith(post) && subpath.length >= key.length - 1 && pre.length > best.length) {
        best = pre;
        target = map[key];
        star = subpath.slice(pre.length, subpath.length - post.length);
      }
    }
  }
  return exportsTarget(target, IMPORT_CONDITIONS, star) ?? exportsTarget(target, REQUIRE_CONDITIONS, star);
}

/** A CJS-style file lookup for "main" and path specs: the file, file.js/.mjs/.cjs, or dir/index.*. */
function probeFile(p: string): string | undefined {
  const tries = [p, `${p}.js`, `${p}.mjs`, `${p}.cjs`, join(p, 'index.js'), join(p, 'index.mjs'), join(p, 'index.cjs')];
  return tries.find((t) => existsSync(t) && statSync(t).isFile());
}

interface PackageJson {
  name?: string;
  exports?: unknown;
  main?: string;
}

/** The entry file of the package in `root` for `subpath` ('.' for the package itself). */
function packageEntry(root: string, subpath: string, spec: string): string {
  const pjPath = join(root, 'package.json');
  let pkg: PackageJson = {};
  if (existsSync(pjPath)) {
    try {
      pkg = JSON.parse(readFileSync(pjPath, 'utf8')) as PackageJson;
    } catch (e) {
      throw new QlogError('QLOG_ERR_PLUGIN_LOAD/json', { spec, file: pjPath, reason: (e as Error).message });
    }
  }
  let file: string | undefined;
  let declared: string;
  if (pkg.exports !== undefined) {
    const t = resolveExports(pkg.exports, subpath);
    if (t === undefined) throw new QlogError('QLOG_ERR_PLUGIN_LOAD/exports', { spec, file: pjPath, subpath });
    declared = join(root, t);
    file = existsSync(declared) ? declared : undefined;
  } else {
    declared = join(root, subpath === '.' ? (pkg.main ?? 'index.js') : subpath);
    file = probeFile(declared);
  }
  if (!file) {
    throw new QlogError('QLOG_ERR_PLUGIN_LOAD/entry', { spec, file: declared, root });
  }
  return file;
}

/** Find `node_modules/<name>` in `dir` or a parent directory. */
function findPackageRoot(name: string, dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const root = join(d, 'node_modules', name);
    if (existsSync(join(root, 'package.json')) || existsSync(root)) return root;
    if (dirname(d) === d) return undefined;
  }
}

/** The file a service.plugins entry names (throws QLOG_ERR_PLUGIN_NOT_FOUND / _LOAD with the reason). */
export function resolvePluginSpec(spec: string, configDir: string): string {
  if (isPathSpec(spec)) {
    const candidates = spec.startsWith('file:') ? [fileURLToPath(spec)] : [...new Set([resolve(configDir, spec), resolve(process.cwd(), spec)])];
    for (const c of candidates) {
      // A folder with a package.json is a plugin package checked out or built locally.
      if (existsSync(join(c, 'package.json')) && statSync(c).isDirectory()) return packageEntry(c, '.', spec);
      const f = probeFile(c);
      if (f) return f;
    }
    throw new QlogError('QLOG_ERR_PLUGIN_LOAD/no-file', { spec, candidates: candidates.join(' and ') });
  }
  const name = packageName(spec);
  const subpath = spec === name ? '.' : `.${spec.slice(name.length)}`;
  const dirs = [...new Set([resolve(configDir), process.cwd()])];
  for (const dir of dirs) {
    const root = findPackageRoot(name, dir);
    if (root) return packageEntry(root, subpath, spec);
  }
  const where = dirs.map((d) => `node_modules in ${d} and its parents`).join(', then ');
  const pkg = resolve(configDir) === process.cwd() ? name : `--prefix ${JSON.stringify(resolve(configDir)).slice(1, -1)} ${name}`;
  throw new QlogError('QLOG_ERR_PLUGIN_NOT_FOUND', { spec, where, pkg });
}

/** Check a module's export and return the plugin (throws QlogError with the reason). */
export function checkPlugin(mod: unknown, spec: string): AnyPlugin {
  let p: unknown = mod;
  // ESM default export, CJS module.exports, or CJS compiled from ESM (exports.default).
  for (let i = 0; i < 3 && p && !isPlugin(p) && typeof p === 'object' && 'default' in p; i++) p = (p as { default: unknown }).default;
  if (!isPlugin(p)) throw new QlogError('QLOG_ERR_PLUGIN_BRAND', { spec });
  if (!KINDS.has(p.kind)) throw new QlogError('QLOG_ERR_PLUGIN_KIND', { name: String(p.name), kind: String(p.kind) });
  if (typeof p.name !== 'string' || !NAME_RE.test(p.name)) throw new QlogError('QLOG_ERR_PLUGIN_LOAD/name', { spec, name: JSON.stringify(p.name) });
  if (typeof p.setup !== 'function') throw new QlogError('QLOG_ERR_PLUGIN_LOAD/setup', { spec, name: p.name });
  // The built-in plugins' range (this version) needs no semver: it is loaded only for plugins from npm.
  if (p.qlog !== VERSION_RANGE) {
    const sv = semver();
    if (typeof p.qlog !== 'string' || !sv.validRange(p.qlog))
      throw new QlogError('QLOG_ERR_PLUGIN_LOAD/range', { spec, name: p.name, version: VERSION, found: JSON.stringify(p.qlog) });
    if (!sv.satisfies(VERSION, p.qlog, { includePrerelease: true }))
      throw new QlogError('QLOG_ERR_PLUGIN_VERSION', { name: p.name, range: p.qlog, version: VERSION });
  }
  const s = p.schema as unknown as Record<string, unknown> | undefined;
  if (s?.type !== 'object' || typeof s.properties !== 'object' || s.properties === null) {
    throw new QlogError('QLOG_ERR_PLUGIN_SCHEMA/shape', { name: p.name });
  }
  if (s.additionalProperties !== false) throw new QlogError('QLOG_ERR_PLUGIN_SCHEMA/additional', { name: p.name });
  try {
    compile(entrySchema(p.kind, p.schema));
  } catch (e) {
    throw new QlogError('QLOG_ERR_PLUGIN_SCHEMA', { name: p.name, reason: (e as Error).message });
  }
  return p;
}

/** Why importing a plugin module failed, with a hint for the usual causes. */
function importFailure(e: unknown, file: string, spec: string): QlogError {
  const err = e as NodeJS.ErrnoException;
  const reason = err?.message ?? String(e);
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(reason)?.[1];
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && missing && !missing.startsWith('/') && !missing.startsWith('.')) {
    if (packageName(missing) === 'qlog') return new QlogError('QLOG_ERR_PLUGIN_LOAD/peer-qlog', { spec, reason, dir: dirname(file) }, { cause: e });
    return new QlogError('QLOG_ERR_PLUGIN_LOAD/dependency', { spec, reason }, { cause: e });
  }
  return new QlogError('QLOG_ERR_PLUGIN_LOAD', { spec, reason }, { cause: e });
}

export interface LoadPluginsOptions {
  /** Limit for importing one module (default IMPORT_TIMEOUT_MS). */
  importTimeoutMs?: number;
}

/** Resolve, import, check and register each spec; the first problem throws a QlogError. */
export async function loadPlugins(specs: readonly string[], configDir: string, registry: PluginRegistry, opts: LoadPluginsOptions = {}): Promise<AnyPlugin[]> {
  const out: AnyPlugin[] = [];
  for (const spec of specs) {
    const file = resolvePluginSpec(spec, configDir);
    const ms = opts.importTimeoutMs ?? IMPORT_TIMEOUT_MS;
    let mod: unknown;
    try {
      mod = await withTimeout(import(pathToFileURL(file).href), ms, `importing ${file}`, {
        error: () => new QlogError('QLOG_ERR_PLUGIN_TIMEOUT/import', { file, ms }),
      });
    } catch (e) {
      throw importFailure(e, file, spec);
    }
    const p = checkPlugin(mod, spec);
    const prev = registry.get(p.kind, p.name);
    if (prev === p) throw new QlogError('QLOG_ERR_PLUGIN_LOAD/twice', { spec, other: registry.origin(prev) });
    if (prev) {
      const origin = registry.origin(prev);
      const other = origin === 'built-in' ? `the built-in ${p.kind} plugin "${p.name}"` : `the ${p.kind} plugin "${p.name}" from "${origin}"`;
      throw new QlogError('QLOG_ERR_PLUGIN_NAME_CLASH', { name: p.name, spec: `"${spec}"`, other });
    }
    registry.add(p, spec);
    out.push(p);
  }
  return out;
}
