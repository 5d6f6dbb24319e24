/**
 * qlog's public SDK for CommonJS consumers: `const { definePlugin } = require('qlog')`.
 *
 * Node 20 cannot require() an ES module, so this file carries its own copy of the small runtime
 * pieces of the SDK (core/index.ts). They are compatible with the ESM ones by construction: the
 * plugin brand is the registered symbol Symbol.for('qlog.plugin'), and PermanentError links
 * itself to the host's class (see below). Types are the ESM ones. test/sdk/cjs-entry.test.ts
 * checks that both entry points export the same names and behave the same.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type {
  AnyPlugin, Plugin, PluginDefinition, PluginKind, PLUGIN_BRAND as ESM_BRAND,
} from './plugin/define.js';
import type { OptionsSchema } from './plugin/schema.js';
import type { LogRecord } from './record.js';

export type {
  AnyPlugin, CheckError, ContextOf, Counters, EmitOptions, FilterContext, FilterHooks, InputContext, InputHooks,
  LifecycleHooks, OutputContext, OutputHooks, Plugin, PluginDefinition, PluginKind, ServiceInfo, Settlement,
} from './plugin/define.js';
export type { Infer, OptionsSchema, PropertySchema } from './plugin/schema.js';
export type { Chunk, LineBlock, LogRecord, RecordBody, RecordMeta } from './record.js';

/** LineBlock flags (the values of core/record.ts). */
export const LINE_TRUNCATED = 1;
export const LINE_INVALID_UTF8 = 2;

export const PLUGIN_BRAND: typeof ESM_BRAND = Symbol.for('qlog.plugin') as typeof ESM_BRAND;

/** Make a plugin descriptor. Option types are inferred from `schema` (declare it `as const`). */
export function definePlugin<K extends PluginKind, const S extends OptionsSchema>(def: PluginDefinition<K, S>): Plugin<K, S> {
  return Object.freeze({ ...def, [PLUGIN_BRAND]: true as const }) as Plugin<K, S>;
}

export function isPlugin(x: unknown): x is AnyPlugin {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}

/** Where the ESM host (core/plugin/loader.ts, qlog/testing) publishes its PermanentError class. */
const HOST_PERMANENT = Symbol.for('qlog.PermanentError');

/**
 * Thrown by an output's flush to drop a chunk without retrying (counted as dropped).
 * The engine is ESM and tests `err instanceof <its PermanentError>`; so on first use this class
 * puts the host's PermanentError.prototype into its own prototype chain: a CJS PermanentError
 * is then an instance of both classes (and still of Error).
 */
export class PermanentError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    linkToHost();
    super(message, options);
    this.name = 'PermanentError';
  }
}

function linkToHost(): void {
  const Host = (globalThis as Record<symbol, unknown>)[HOST_PERMANENT];
  if (typeof Host !== 'function' || Host === PermanentError) return;
  const hostProto = (Host as { prototype: object }).prototype;
  if (!hostProto.isPrototypeOf(PermanentError.prototype)) Object.setPrototypeOf(PermanentError.prototype, hostProto);
}

/* ---- records (same as core/record.ts) ---- */

const originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
/** Nanoseconds since the epoch, with sub-millisecond precision from the monotonic clock. */
export function nowNs(): bigint {
  return originNs + process.hrtime.bigint();
}

/** The line of a record: the body itself for strings, `log`/`message` (or JSON) for objects. */
export function recordLine(r: LogRecord): string {
  const b = r.body;
  if (typeof b === 'string') return b;
  const l = b.log ?? b.message;
  return typeof l === 'string' ? l : JSON.stringify(b);
}

/** Approximate size of a record's payload in bytes (exact for ASCII string bodies). */
export function recordBytes(r: LogRecord): number {
  const b = r.body;
  if (typeof b === 'string') return b.length + 1;
  let n = 2;
  for (const k in b) {
    const v = b[k];
    n += k.length + 4 + (typeof v === 'string' ? v.length : 8);
  }
  return n;
}

export function chunkBytes(records: readonly LogRecord[]): number {
  let n = 0;
  for (let i = 0; i < records.length; i++) n += recordBytes(records[i]!);
  return n;
}

let chunkSeq = 0;
// 'c' keeps these ids apart from the ESM copy's ids in the same process.
const chunkPrefix = `${process.pid.toString(36)}.${Date.now().toString(36)}c.`;
/** Process-unique chunk id. */
export function newChunkId(): string {
  return chunkPrefix + (chunkSeq++).toString(36);
}

/* ---- units (same as core/config/units.ts) ---- */

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1000, kb: 1000, kib: 1024,
  m: 1000 ** 2, mb: 1000 ** 2, mib: 1024 ** 2,
  g: 1000 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
};

/** 65536, "64KiB", "2MB", "1.5 MiB" -> bytes; undefined if not a size. KB/MB are decimal, KiB/MiB binary. */
export function parseSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  if (!m) return undefined;
  const mult = SIZE_UNITS[m[2]!.toLowerCase()];
  if (mult === undefined) return undefined;
  return Math.round(Number(m[1]) * mult);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** 15 (seconds), "500ms", "5s", "1m", "1.5h" -> milliseconds; undefined if not a duration. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? '']!);
}

/* ---- tag matching (same as core/match.ts) ---- */

function compileOne(pattern: string): (tag: string) => boolean {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*')) return (tag) => tag === pattern;
  const parts = pattern.split('*');
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1);
  return (tag) => {
    if (tag.length < first.length + last.length || !tag.startsWith(first) || !tag.endsWith(last)) return false;
    let pos = first.length;
    const end = tag.length - last.length;
    for (const m of middle) {
      const i = tag.indexOf(m, pos);
      if (i < 0 || i + m.length > end) return false;
      pos = i + m.length;
    }
    return true;
  };
}

/** Fluent Bit tag matching: `*` matches any run of characters (dots included); a list ORs its patterns. */
export function compileMatch(pattern: string | readonly string[]): (tag: string) => boolean {
  const list = typeof pattern === 'string' ? [pattern] : pattern;
  const fns = list.map(compileOne);
  if (fns.length === 1) return fns[0]!;
  return (tag) => fns.some((f) => f(tag));
}

/* ---- version ---- */

function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'qlog') return pkg.version;
    }
    if (dirname(dir) === dir) throw new Error('qlog: cannot find its own package.json');
  }
}
export const VERSION: string = packageVersion();
/** The version range built-in plugins declare (and a good default for new plugins). */
export const VERSION_RANGE = `^${VERSION}`;
