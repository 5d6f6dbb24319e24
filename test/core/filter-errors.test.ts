// A filter that throws or rejects is contained: the chunk passes on unchanged, the error is
// counted on the filter and logged with its instance id, and later chunks and filters still run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin, nowNs, type LogRecord } from '../../core/index.js';
import { startEngine } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

const empty = { type: 'object', additionalProperties: false, properties: {} } as const;
const N = 6;

test('a throwing and a rejecting filter do not stop the pipeline', async (t) => {
  let emit: ((r: LogRecord[]) => boolean) | undefined;
  const src = definePlugin({
    kind: 'input',
    name: 'src',
    description: 'emits when told',
    qlog: '*',
    schema: empty,
    setup(ctx) {
      emit = (r) => ctx.emit(ctx.tag, r);
    },
  });
  // Throws synchronously on odd chunks, passes even ones through with a mark.
  const thrower = definePlugin({
    kind: 'filter',
    name: 'thrower',
    description: 'throws on odd chunks',
    qlog: '*',
    schema: empty,
    setup(ctx) {
      ctx.hooks.chunk.tap('t', (chunk) => {
        const seq = chunk.records[0]!.meta.seq as number;
        if (seq % 2) throw new Error(`bad record ${seq}`);
        for (const r of chunk.records) r.body = `${r.body as string} +thrower`;
        return chunk;
      });
    },
  });
  // Rejects on chunks divisible by 3 (after mutating nothing).
  const rejecter = definePlugin({
    kind: 'filter',
    name: 'rejecter',
    description: 'rejects on every third chunk',
    qlog: '*',
    schema: empty,
    setup(ctx) {
      ctx.hooks.chunk.tapPromise('t', async (chunk) => {
        await new Promise((r) => setImmediate(r));
        const seq = chunk.records[0]!.meta.seq as number;
        if (seq % 3 === 0) throw new Error(`async failure on ${seq}`);
        return chunk;
      });
    },
  });
  // A healthy filter after the broken ones still runs on every chunk.
  const upper = definePlugin({
    kind: 'filter',
    name: 'upper',
    description: 'upper-cases the line',
    qlog: '*',
    schema: empty,
    setup(ctx) {
      ctx.hooks.chunk.tap('t', (chunk) => {
        for (const r of chunk.records) r.body = (r.body as string).toUpperCase();
        return chunk;
      });
    },
  });
  const got: string[] = [];
  const sink = definePlugin({
    kind: 'output',
    name: 'sink',
    description: 'collects',
    qlog: '*',
    schema: empty,
    setup(ctx) {
      ctx.hooks.flush.tap('t', (chunk) => {
        for (const r of chunk.records) got.push(r.body as string);
      });
    },
  });
  const h = await startEngine(
    t,
    `
pipeline:
  inputs: [{ name: src, tag: app }]
  filters:
    - { name: thrower, alias: broken }
    - { name: rejecter }
    - { name: upper }
  outputs: [{ name: sink }]
`,
    [src, thrower, rejecter, upper, sink],
  );
  for (let seq = 1; seq <= N; seq++) emit!([{ time: nowNs(), tag: 'app', body: `line ${seq}`, meta: { seq } }]);
  await waitFor(() => got.length === N, { what: `${N} records at the output` });
  // Odd: thrower failed -> unchanged; even: marked. Every third: rejecter failed -> passed on. All upper-cased.
  assert.deepEqual(got, ['LINE 1', 'LINE 2 +THROWER', 'LINE 3', 'LINE 4 +THROWER', 'LINE 5', 'LINE 6 +THROWER']);

  const m = (id: string) => h.engine.metrics().find((x) => x.id === id)!.counters;
  assert.equal(m('broken').errors, 3);
  assert.equal(m('broken').records_in, N);
  assert.equal(m('broken').records_out, N, 'records pass through a failing filter');
  assert.equal(m('broken').dropped_records, 0);
  assert.equal(m('rejecter.0').errors, 2);
  assert.equal(m('rejecter.0').records_out, N);
  assert.equal(m('upper.0').errors, 0);
  assert.equal(m('sink.0').records_out, N);

  // Chunks pass the filters one at a time, in order, so the log order is fixed.
  const errs = h.logs.filter((l) => l.level === 50);
  assert.deepEqual(
    errs.map((l) => [l.plugin, l.stage, l.msg]),
    [
      ['broken', 'filter', 'broken: filter failed: bad record 1'],
      ['broken', 'filter', 'broken: filter failed: bad record 3'],
      ['rejecter.0', 'filter', 'rejecter.0: filter failed: async failure on 3'],
      ['broken', 'filter', 'broken: filter failed: bad record 5'],
      ['rejecter.0', 'filter', 'rejecter.0: filter failed: async failure on 6'],
    ],
  );
  assert.ok(
    errs.every((l) => typeof (l.err as { stack?: string }).stack === 'string'),
    'the error (with stack) is in the log',
  );
});

test('a filter returning something that is not a chunk is contained the same way', async (t) => {
  let emit: ((r: LogRecord[]) => boolean) | undefined;
  const src = definePlugin({
    kind: 'input',
    name: 'src',
    description: 'd',
    qlog: '*',
    schema: empty,
    setup: (ctx) => void (emit = (r) => ctx.emit(ctx.tag, r)),
  });
  const junk = definePlugin({
    kind: 'filter',
    name: 'junk',
    description: 'returns garbage',
    qlog: '*',
    schema: empty,
    setup(ctx) {
      ctx.hooks.chunk.tap('t', () => ({ nope: true }) as never);
    },
  });
  const got: string[] = [];
  const sink = definePlugin({
    kind: 'output',
    name: 'sink',
    description: 'd',
    qlog: '*',
    schema: empty,
    setup: (ctx) => ctx.hooks.flush.tap('t', (c) => void got.push(...c.records.map((r) => r.body as string))),
  });
  const h = await startEngine(t, `pipeline: { inputs: [{ name: src }], filters: [{ name: junk }], outputs: [{ name: sink }] }`, [src, junk, sink]);
  emit!([{ time: nowNs(), tag: 'src.0', body: 'kept', meta: {} }]);
  await waitFor(() => got.length === 1, { what: 'the record at the output' });
  assert.deepEqual(got, ['kept']);
  assert.equal(h.engine.metrics().find((x) => x.id === 'junk.0')!.counters.errors, 1);
  assert.ok(h.logs.some((l) => l.plugin === 'junk.0' && /^junk\.0: filter failed: /.test(String(l.msg))));
});
