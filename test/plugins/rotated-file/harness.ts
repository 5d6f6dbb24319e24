/**
 * Drives the rotated-file plugin in-process: options validated like a config file (defaults,
 * units), a real OutputContext, and direct calls of the flush hook (resolve = ack).
 *
 *   const out = await openRotatedFile(t, { workspace: dir, file: 'service.log' });
 *   await out.flush(lines(['a', 'b'], { src: 's1', from: 1 }));
 *   await out.close();      // stop hook (also run after the test)
 */
import { AsyncParallelHook, AsyncSeriesHook } from 'tapable';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Chunk, LogRecord, OutputContext } from '../../../core/index.js';
import { InstanceCounters } from '../../../core/counters.js';
import { newChunkId } from '../../../core/record.js';
import { captureLogger, configFrom } from '../../helpers/engine.js';
import type { HasAfter } from '../../helpers/tmp.js';
import { readState } from '../../../plugins/rotated-file/rotated-file-state.js';

export interface OpenOutput {
  flush(chunk: Chunk): Promise<void>;
  close(): Promise<void>;
  counters: InstanceCounters;
  logs: Record<string, unknown>[];
  stateDir: string;
}

export async function openRotatedFile(owner: HasAfter, options: Record<string, unknown>, stateDir?: string): Promise<OpenOutput> {
  const yaml = JSON.stringify({ pipeline: { outputs: [{ name: 'rotated-file', alias: 'out', ...options }] } });
  const config = await configFrom(yaml);
  const entry = config.outputs[0]!;
  const dir = stateDir ?? join(String(options.workspace), '..', 'state');
  mkdirSync(dir, { recursive: true });
  const { logger, logs } = captureLogger('debug');
  const counters = new InstanceCounters();
  const hooks = Object.freeze({ start: new AsyncSeriesHook<[]>(), stop: new AsyncSeriesHook<[]>(), flush: new AsyncParallelHook<[Chunk]>(['chunk']) });
  const ctx: OutputContext<unknown> = {
    id: 'out',
    name: 'rotated-file',
    options: entry.options,
    log: logger,
    counters,
    service: Object.freeze({ version: '0.0.0', hostname: 'test', stateDir: dir, configDir: process.cwd(), graceMs: 1000 }),
    statePath: (f: string) => join(dir, `out.${f}`),
    hooks,
  };
  await (entry.plugin.setup as (c: unknown) => unknown)(ctx);
  await hooks.start.promise();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await hooks.stop.promise();
  };
  owner.after(() => void close());
  return { flush: (c) => hooks.flush.promise(c), close, counters, logs, stateDir: dir };
}

export interface LineOpts {
  tag?: string;
  /** meta.src of every record (with seq = from, from+1, ...). */
  src?: string;
  from?: number;
}

/** A chunk of string records. */
export function lines(texts: string[], o: LineOpts = {}): Chunk {
  const tag = o.tag ?? 'app';
  const records: LogRecord[] = texts.map((body, i) => ({
    time: 1_700_000_000_000_000_000n,
    tag,
    body,
    meta: o.src !== undefined ? { src: o.src, seq: (o.from ?? 1) + i } : {},
  }));
  return { id: newChunkId(), tag, records, bytes: texts.reduce((n, t) => n + t.length + 1, 0) };
}

export function numbered(prefix: string, from: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix} ${from + i}`);
}

/** A file's delivery state as a restart would read it (base + journal), without inodes: comparable across directories. */
export function stateWithoutInodes(stateDir: string, file: string): string {
  const s = readState(join(stateDir, `out.file-${file}.json`));
  return JSON.stringify({ size: s.size, rotating: s.rotating !== undefined, hw: [...s.hw] });
}
