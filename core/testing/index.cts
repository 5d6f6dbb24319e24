/**
 * qlog/testing for CommonJS tests: `const { createHarness } = require('qlog/testing')`.
 * The harness runs the (ESM) engine, so createHarness loads it with import() — it is async
 * anyway. records()/toRecord() are small synchronous copies. Types are the ESM ones.
 */
import type { Plugin, PluginKind } from '../plugin/define.js';
import type { Infer, OptionsSchema } from '../plugin/schema.js';
import type { LogRecord, RecordBody } from '../record.js';
import type { Harness, HarnessOptions, RecordInput } from './index.js';
import { PermanentError } from '../index.cjs';

export type {
  FilterHarness,
  FlushResult,
  Harness,
  HarnessError,
  HarnessOptions,
  InputHarness,
  LogEntry,
  OutputHarness,
  RecordInput,
  ServiceOverrides,
  StopResult,
} from './index.js';

/** Same as the ESM createHarness (see qlog/testing). */
export async function createHarness<K extends PluginKind, S extends OptionsSchema>(
  plugin: Plugin<K, S>,
  opts: HarnessOptions = {},
): Promise<Harness<K, Infer<S>>> {
  const esm = await import('./index.js');
  // The engine is loaded now: constructing one links the CJS PermanentError to its class, so
  // errors made before (e.g. at module load) are instances of the engine's class too.
  void new PermanentError();
  return esm.createHarness(plugin, opts);
}

const originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Turn what a test wrote into a LogRecord (time now, empty meta unless given). */
export function toRecord(x: RecordInput, tag: string): LogRecord {
  const time = originNs + process.hrtime.bigint();
  if (typeof x === 'string') return { time, tag, body: x, meta: {} };
  if (x && typeof x === 'object' && 'body' in x) {
    const r = x as Partial<LogRecord>;
    return { time: r.time ?? time, tag: r.tag ?? tag, body: r.body as RecordBody, meta: r.meta ?? {} };
  }
  return { time, tag, body: x as { [key: string]: unknown }, meta: {} };
}

/** Make records for a test: lines, object bodies or partial records, all with `tag`. */
export function records(items: RecordInput[], tag = 'test'): LogRecord[] {
  return items.map((x) => toRecord(x, tag));
}
