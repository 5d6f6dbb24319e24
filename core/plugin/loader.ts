/**
 * Loads third-party plugins named in service.plugins (npm package names or paths), ESM or CJS,
 * and checks brand, host version range, kind and name clashes (fastify-plugin style).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import { QlogError } from '../errors.js';
import { VERSION } from '../version.js';
import { isPlugin, type AnyPlugin } from './define.js';
import type { PluginRegistry } from './registry.js';
import { compile } from '../config/validate.js';
import { entrySchema } from '../config/common.js';

const KINDS = new Set(['input', 'filter', 'output']);
const NAME_RE = /^[a-z][a-z0-9_-]*$/;

function isPathSpec(spec: string): boolean {
  return spec.startsWith('./') || spec.startsWith('../') || isAbsolute(spec) || spec.startsWith('file:');
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Resolve a package's entry point from node_modules under `dir` and its parents (ESM "exports" aware). */
function resolvePackage(spec: string, dir: string): string | undefined {
  try {
    return createRequire(join(dir, 'noop.js')).resolve(spec);
  } catch {
    /* ESM-only "exports" without a require condition: read package.json ourselves */
  }
  const name = packageName(spec);
  for (let d = dir; ; d = dirname(d)) {
    const pj = join(d, 'node_modules', name, 'package.json');
    if (existsSync(pj)) {
      const pkg = JSON.parse(readFileSync(pj, 'utf8')) as { exports?: unknown; main?: string; module?: string };
      const root = dirname(pj);
      const sub = spec === name ? '.' : '.' + spec.slice(name.length);
      let exp = pkg.exports as Record<string, unknown> | string | undefined;
      if (exp && typeof exp === 'object' && !Object.keys(exp).some((k) => k.startsWith('.'))) exp = { '.': exp };
      let target: unknown = typeof exp === 'string' ? (sub === '.' ? exp : undefined) : exp?.[sub];
      while (target && typeof target === 'object') {
        const t = target as Record<string, unknown>;
        target = t.import ?? t.node ?? t.default ?? t.require;
      }
      if (typeof target === 'string') return join(root, target);
      return join(root, pkg.main ?? pkg.module ?? 'index.js');
    }
    if (dirname(d) === d) return undefined;
  }
}

export function resolvePluginSpec(spec: string, configDir: string): string {
  if (isPathSpec(spec)) {
    const candidates = spec.startsWith('file:') ? [new URL(spec).pathname] : [resolve(configDir, spec), resolve(process.cwd(), spec)];
    for (const c of candidates) if (existsSync(c)) return c;
    throw new QlogError('QLOG_ERR_PLUGIN_NOT_FOUND', { spec, where: candidates.join(', '), pkg: `${spec} (the path does not exist)` });
  }
  for (const dir of [configDir, process.cwd()]) {
    const r = resolvePackage(spec, dir);
    if (r) return r;
  }
  throw new QlogError('QLOG_ERR_PLUGIN_NOT_FOUND', { spec, where: `node_modules above ${configDir} and ${process.cwd()}`, pkg: packageName(spec) });
}

/** Check a module's export and return the plugin (throws QlogError with the reason). */
export function checkPlugin(mod: unknown, spec: string): AnyPlugin {
  let p: unknown = mod;
  for (let i = 0; i < 3 && p && !isPlugin(p) && typeof p === 'object' && 'default' in p; i++) p = (p as { default: unknown }).default;
  if (!isPlugin(p)) throw new QlogError('QLOG_ERR_PLUGIN_BRAND', { spec });
  if (!KINDS.has(p.kind)) throw new QlogError('QLOG_ERR_PLUGIN_KIND', { name: String(p.name), kind: String(p.kind) });
  if (typeof p.name !== 'string' || !NAME_RE.test(p.name)) throw new QlogError('QLOG_ERR_PLUGIN_LOAD', { spec, reason: `plugin name ${JSON.stringify(p.name)} must be lowercase letters, digits, "-" or "_"` });
  if (typeof p.qlog !== 'string' || !semver.validRange(p.qlog)) throw new QlogError('QLOG_ERR_PLUGIN_LOAD', { spec, reason: `"qlog" must be a semver range such as "^${VERSION}", found ${JSON.stringify(p.qlog)}` });
  if (!semver.satisfies(VERSION, p.qlog, { includePrerelease: true })) throw new QlogError('QLOG_ERR_PLUGIN_VERSION', { name: p.name, range: p.qlog, version: VERSION });
  try {
    compile(entrySchema(p.kind, p.schema));
  } catch (e) {
    throw new QlogError('QLOG_ERR_PLUGIN_SCHEMA', { name: p.name, reason: (e as Error).message });
  }
  return p;
}

export async function loadPlugins(specs: readonly string[], configDir: string, registry: PluginRegistry): Promise<AnyPlugin[]> {
  const out: AnyPlugin[] = [];
  for (const spec of specs) {
    const file = resolvePluginSpec(spec, configDir);
    let mod: unknown;
    try {
      mod = await import(pathToFileURL(file).href);
    } catch (e) {
      throw new QlogError('QLOG_ERR_PLUGIN_LOAD', { spec, reason: (e as Error).message }, { cause: e });
    }
    const p = checkPlugin(mod, spec);
    registry.add(p, spec);
    out.push(p);
  }
  return out;
}
