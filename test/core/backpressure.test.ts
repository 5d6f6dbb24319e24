// A deliberately slow output pauses a fast input; the output's buffer stays within its limit
// (plus one chunk), and every record arrives exactly once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin, nowNs, type LogRecord } from '../../core/index.js';
import { startEngine } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';
import { RECORD_OVERHEAD } from '../../core/record.js';

const CHUNKS = 300;
const PER_CHUNK = 10;
const LINE = 'x'.repeat(99); // 100 bytes per record as the core counts them (length + 1)
const CHUNK_BYTES = PER_CHUNK * (LINE.length + 1);
// Buffer limits count memory: line bytes + RECORD_OVERHEAD per record.
const CHUNK_COST = CHUNK_BYTES + PER_CHUNK * RECORD_OVERHEAD;
const OUT_LIMIT = 8 * 1024;

test('a slow output pauses a fast input; buffer bounded; all records once, in order', async (t) => {
  const seen = { pauseHook: 0, resumeHook: 0, emitFalse: 0, done: false };
  const fast = definePlugin({
    kind: 'input',
    name: 'fast',
    description: 'emits until emit() returns false, then awaits ready()',
    qlog: '*',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    setup(ctx) {
      ctx.hooks.pause.tap('t', () => void seen.pauseHook++);
      ctx.hooks.resume.tap('t', () => void seen.resumeHook++);
      ctx.hooks.start.tap('t', () => {
        void (async () => {
          let seq = 0;
          for (let c = 0; c < CHUNKS; c++) {
            const records: LogRecord[] = [];
            for (let i = 0; i < PER_CHUNK; i++) records.push({ time: nowNs(), tag: ctx.tag, body: LINE, meta: { seq: ++seq } });
            if (!ctx.emit(ctx.tag, records)) {
              seen.emitFalse++;
              await ctx.ready();
            }
          }
          seen.done = true;
        })();
      });
    },
  });
  const received: number[] = [];
  let flushes = 0;
  const slow = definePlugin({
    kind: 'output',
    name: 'slow',
    description: 'takes 2 ms per flush',
    qlog: '*',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    setup(ctx) {
      ctx.hooks.flush.tapPromise('t', async (chunk) => {
        flushes++;
        await new Promise((r) => setTimeout(r, 2)); // the point: a slow output
        for (const r of chunk.records) received.push(r.meta.seq as number);
      });
    },
  });

  const h = await startEngine(
    t,
    `
pipeline:
  inputs:
    - name: fast
      tag: load
  outputs:
    - name: slow
      alias: out
      buffer_limit: ${OUT_LIMIT}
      flush_max_size: 2KiB
`,
    [fast, slow],
  );
  const out = h.engine.outputs[0]!;
  let maxBuffered = 0;
  h.engine.hooks.routed.tap('t', () => {
    maxBuffered = Math.max(maxBuffered, out.bufferedBytes);
  });

  await waitFor(() => seen.done && received.length === CHUNKS * PER_CHUNK, { timeoutMs: 20_000, what: 'every record at the output' });
  assert.equal(await h.stop(), 0);

  assert.deepEqual(
    received,
    Array.from({ length: CHUNKS * PER_CHUNK }, (_, i) => i + 1),
    'every record exactly once, in order',
  );
  assert.ok(seen.emitFalse > 0, 'emit() returned false at least once');
  assert.ok(seen.pauseHook > 0 && seen.resumeHook > 0, `pause/resume hooks fired (pause ${seen.pauseHook}, resume ${seen.resumeHook})`);
  assert.equal(seen.pauseHook, seen.resumeHook, 'every pause was followed by a resume');
  assert.ok(maxBuffered <= OUT_LIMIT + CHUNK_COST, `output buffer peaked at ${maxBuffered} bytes; limit ${OUT_LIMIT} + one chunk ${CHUNK_COST}`);
  assert.ok(flushes < CHUNKS, `a busy output batches (${flushes} flushes for ${CHUNKS} chunks)`);
  const m = h.engine.metrics();
  const input = m.find((x) => x.kind === 'input')!.counters;
  const output = m.find((x) => x.id === 'out')!.counters;
  assert.equal(input.records_out, CHUNKS * PER_CHUNK);
  assert.ok(input.paused! >= 1);
  assert.equal(output.records_in, CHUNKS * PER_CHUNK);
  assert.equal(output.records_out, CHUNKS * PER_CHUNK);
  assert.equal(output.bytes_out, CHUNKS * CHUNK_BYTES);
  assert.equal(output.buffered_bytes, 0);
  assert.equal(output.dropped_records, 0);
});

test('an input that cannot pause (dropIfFull) drops with a counter while the output is full', async (t) => {
  let ctxRef: { emit: (tag: string, r: LogRecord[], o?: { dropIfFull?: boolean }) => boolean } | undefined;
  const sampler = definePlugin({
    kind: 'input',
    name: 'sampler',
    description: 'emits on demand with dropIfFull',
    qlog: '*',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    setup(ctx) {
      ctxRef = ctx;
    },
  });
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const received: number[] = [];
  const stuck = definePlugin({
    kind: 'output',
    name: 'stuck',
    description: 'holds every flush until released',
    qlog: '*',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    setup(ctx) {
      ctx.hooks.flush.tapPromise('t', async (chunk) => {
        await held;
        for (const r of chunk.records) received.push(r.meta.seq as number);
      });
    },
  });
  const h = await startEngine(
    t,
    `
pipeline:
  inputs: [{ name: sampler, tag: s }]
  outputs: [{ name: stuck, alias: out, buffer_limit: ${10 * (LINE.length + 1 + RECORD_OVERHEAD)} }]
`,
    [sampler, stuck],
  );
  const rec = (seq: number): LogRecord[] => [{ time: nowNs(), tag: 's', body: LINE, meta: { seq } }];
  const results: boolean[] = [];
  for (let seq = 1; seq <= 20; seq++) {
    results.push(ctxRef!.emit('s', rec(seq), { dropIfFull: true }));
    await new Promise((r) => setImmediate(r));
  }
  // One record costs 100 bytes + RECORD_OVERHEAD; the limit holds 10: the first 10 are accepted, the other 10 dropped.
  assert.deepEqual(results, [...Array<boolean>(10).fill(true), ...Array<boolean>(10).fill(false)]);
  const input = h.engine.metrics().find((m) => m.kind === 'input')!.counters;
  assert.equal(input.dropped_records, 10);
  assert.equal(input.records_out, 10);
  assert.equal(input.paused ?? 0, 0, 'an input that drops is not paused');
  release();
  await waitFor(() => received.length === 10, { what: 'the 10 accepted records' });
  assert.deepEqual(received, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(ctxRef!.emit('s', rec(21), { dropIfFull: true }), true, 'accepted again once the output drained');
  await waitFor(() => received.length === 11, { what: 'record 21' });
});

test('an idle output gets a chunk at once (event-driven, no flush interval)', async (t) => {
  let ctxRef: { emit: (tag: string, r: LogRecord[]) => boolean } | undefined;
  const once = definePlugin({
    kind: 'input',
    name: 'once',
    description: 'd',
    qlog: '*',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    setup: (ctx) => void (ctxRef = ctx),
  });
  const flushedAt: number[] = [];
  const sink = definePlugin({
    kind: 'output',
    name: 'sink',
    description: 'd',
    qlog: '*',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    setup: (ctx) => ctx.hooks.flush.tap('t', () => void flushedAt.push(performance.now())),
  });
  await startEngine(t, `pipeline: { inputs: [{ name: once }], outputs: [{ name: sink }] }`, [once, sink]);
  const t0 = performance.now();
  ctxRef!.emit('once.0', [{ time: nowNs(), tag: 'once.0', body: 'now', meta: {} }]);
  await waitFor(() => flushedAt.length === 1, { what: 'the flush' });
  // Generous bound (loaded CI machines); a timer-driven flush (Fluent Bit: 1 s) would miss it.
  assert.ok(flushedAt[0]! - t0 < 250, `flushed after ${(flushedAt[0]! - t0).toFixed(1)} ms`);
});
