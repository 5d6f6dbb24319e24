import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import rate from '../../../plugins/rate/index.js';
import { formatInterval } from '../../../plugins/rate/rate-summary.js';
import { ConfigError, createHarness } from '../../../core/testing/index.js';
import type { LogRecord } from '../../../core/record.js';

const harness = (options: Record<string, unknown>) => createHarness(rate, { options, tag: 'app.service' });
const lines = (n: number, p = 'line', meta: Record<string, unknown> = {}, tag = 'app.service') =>
  Array.from({ length: n }, (_, i) => ({ body: `${p} ${i + 1}`, meta: { ...meta }, tag }));
const bodies = (recs: { body: unknown }[]) => recs.map((r) => r.body);
const summaries = (recs: LogRecord[]) => recs.filter((r) => r.meta.rate_summary);
const summaryLines = (recs: LogRecord[]) =>
  summaries(recs)
    .map((r) => `${r.tag}|${(r.body as { log: string }).log}`)
    .sort();

test('drop per tag: over-limit records are discarded and counted', async (t) => {
  const h = await harness({ rate: 10, window: 1, interval: '1h', summary: false });
  t.after(() => h.stop());
  const out = await h.filter(lines(25));
  assert.deepEqual(bodies(out), bodies(lines(10)));
  assert.equal(h.counters.rate_dropped, 15);
  assert.equal(h.counters.dropped_records, 15, 'the core counts the drop too');
  assert.equal((await h.filter(lines(5))).length, 0);
  assert.equal((await h.filter(lines(5, 'x', {}, 'other.tag'))).length, 5, 'tags are limited separately');
  assert.equal(h.counters.rate_dropped, 20);
});

test('drop per metadata field (key: meta.path): each file has its own budget, order kept', async (t) => {
  const h = await harness({ rate: 2, window: 1, interval: '1h', key: 'meta.path', summary: false });
  t.after(() => h.stop());
  const r = (body: string, path: string) => ({ body, meta: { path } });
  const out = await h.filter([r('a1', '/a'), r('a2', '/a'), r('b1', '/b'), r('a3', '/a'), r('b2', '/b'), r('b3', '/b'), r('c1', '/c')]);
  assert.deepEqual(bodies(out), ['a1', 'a2', 'b1', 'b2', 'c1']);
  assert.equal(h.counters.rate_dropped, 2);
});

test('key shorthands and templates: path, ${host}:${path}', async (t) => {
  const h = await harness({ rate: 1, window: 1, interval: '1h', key: '${host}:${path}', summary: false });
  t.after(() => h.stop());
  const out = await h.filter([
    { body: '1', meta: { host: 'h1', path: '/a' } },
    { body: '2', meta: { host: 'h2', path: '/a' } },
    { body: '3', meta: { host: 'h1', path: '/a' } },
  ]);
  assert.deepEqual(bodies(out), ['1', '2']);
  const g = await harness({ rate: 1, window: 1, interval: '1h', key: 'path', summary: false });
  t.after(() => g.stop());
  assert.deepEqual(
    bodies(
      await g.filter([
        { body: '1', meta: { path: '/a' } },
        { body: '2', meta: { path: '/b' } },
        { body: '3', meta: {} },
      ]),
    ),
    ['1', '2', '3'],
  );
});

test('window: a quiet key bursts rate x window', async (t) => {
  const h = await harness({ rate: 4, window: 3, interval: '1h', summary: false });
  t.after(() => h.stop());
  assert.equal((await h.filter(lines(100))).length, 12);
});

test('summary record once per interval in which records were dropped', async (t) => {
  const h = await harness({ rate: 5, window: 1, interval: '150ms', key: 'meta.path' });
  t.after(() => h.stop());
  const out = await h.filter(lines(20, 'l', { path: '/var/log/app.log', src: 'file:1', seq: 99, host: 'enclave-1' }));
  assert.equal(out.filter((r) => !r.meta.rate_summary).length, 5);
  await h.waitFor(() => summaries(h.received).length > 0, { what: 'a summary' });
  await sleep(400); // the point: quiet intervals go by without a summary
  const s = summaries(h.received);
  assert.equal(s.length, 1, 'one summary, none for the quiet intervals after');
  assert.equal(s[0]!.tag, 'app.service');
  assert.deepEqual(s[0]!.body, {
    log: 'rate: dropped 15 records for /var/log/app.log in the last 150ms',
    rate_dropped: 15,
    interval_ms: 150,
    rate_key: '/var/log/app.log',
  });
  assert.deepEqual(s[0]!.meta, { path: '/var/log/app.log', host: 'enclave-1', rate_summary: true });
  assert.equal(h.counters.rate_summaries, 1);
});

test("summaries go under each key's tag; summary: false sends none", async (t) => {
  const h = await harness({ rate: 1, window: 1, interval: '100ms' });
  t.after(() => h.stop());
  await h.filter([...lines(3, 'x', {}, 'a'), ...lines(4, 'x', {}, 'b')]);
  await h.waitFor(() => summaries(h.received).length >= 2, { what: 'two summaries' });
  assert.deepEqual(summaryLines(h.received), ['a|rate: dropped 2 records for a in the last 100ms', 'b|rate: dropped 3 records for b in the last 100ms']);
  const g = await harness({ rate: 1, window: 1, interval: '100ms', summary: false });
  t.after(() => g.stop());
  await g.filter(lines(3));
  await sleep(250); // the point: intervals go by without a summary
  assert.equal(summaries(g.received).length, 0);
  assert.equal(g.counters.rate_dropped, 2);
});

test('a large chunk over the limit: one summary with the exact count', async (t) => {
  const h = await harness({ rate: 1, window: 1, interval: '100ms' });
  t.after(() => h.stop());
  await h.filter(lines(1000));
  await h.waitFor(() => summaries(h.received).length >= 1, { what: 'a summary' });
  assert.equal(h.counters.rate_dropped, 999);
  assert.match((summaries(h.received)[0]!.body as { log: string }).log, /^rate: dropped 999 records/);
});

test('max_keys: evicted keys still get their drops reported (aggregated)', async (t) => {
  const h = await harness({ rate: 1, window: 1, interval: '200ms', key: 'path', max_keys: 2 });
  t.after(() => h.stop());
  const r = (p: string) => ({ body: 'x', meta: { path: p } });
  await h.filter([r('/a'), r('/a'), r('/b'), r('/b'), r('/c'), r('/c'), r('/d')]);
  await h.waitFor(() => summaries(h.received).length >= 2, { what: 'two summaries' });
  assert.deepEqual(summaryLines(h.received), [
    'app.service|rate: dropped 1 records for /c in the last 200ms',
    'app.service|rate: dropped 2 records for 2 keys no longer tracked (more than max_keys=2 keys were active) in the last 200ms',
  ]);
  assert.equal(h.counters.rate_dropped, 3);
  assert.equal(h.counters.rate_evicted_keys, 2);
});

test('pause: the chunk is held until the window has room, nothing is dropped', async (t) => {
  const h = await harness({ rate: 10, window: 1, interval: '100ms', action: 'pause' });
  t.after(() => h.stop());
  const t0 = performance.now();
  const out = await h.filter(lines(35));
  const ms = performance.now() - t0;
  assert.deepEqual(bodies(out), bodies(lines(35)));
  // 10 now, then 10 per 100 ms slot: at least 3 slot boundaries
  assert.ok(ms >= 200 && ms < 3000, `${ms} ms`);
  assert.equal(h.counters.rate_dropped ?? 0, 0);
  assert.ok(h.counters.rate_paused_ms! >= 200);
});

test('pause: stopping the agent does not wait for the window', async () => {
  const h = await harness({ rate: 1, window: 1, interval: '1h', action: 'pause' });
  const pending = h.filter(lines(100)).catch(() => undefined);
  // records_in is counted as the chunk enters the filter, which then holds it (rate 1 per hour).
  await h.waitFor(() => h.counters.records_in === 100, { what: 'the chunk held by the filter' });
  const t0 = performance.now();
  await h.stop({ grace: 300 });
  assert.ok(performance.now() - t0 < 2000, 'stop finished');
  // Give the released chunk a moment to settle (whether it reaches the stopped output is not this
  // test's business).
  await Promise.race([pending, sleep(100)]);
});

test('options: unknown key, bad key template, too short interval are config errors', async () => {
  const bad = async (o: Record<string, unknown>, re: RegExp) => assert.rejects(harness(o), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  await bad({ rte: 5 }, /unknown key "rte" \(did you mean "rate"\?\)/);
  await bad({ key: '${path' }, /key: unclosed "\$\{"/);
  await bad({ interval: '5ms' }, /interval: expected an interval of at least 10ms, found 5ms/);
  await bad({ action: 'block' }, /expected one of "drop", "pause", found "block"/);
  await bad({ rate: 0 }, /rate: expected a number > 0, found 0/);
  const h = await harness({});
  assert.deepEqual(h.options, { rate: 1000, window: 5, interval: 1000, key: 'tag', max_keys: 10000, action: 'drop', summary: true });
  await h.stop();
});

test('formatInterval', () => {
  assert.equal(formatInterval(250), '250ms');
  assert.equal(formatInterval(1000), '1s');
  assert.equal(formatInterval(1500), '1.5s');
  assert.equal(formatInterval(90_000), '90s');
  assert.equal(formatInterval(120_000), '2m');
  assert.equal(formatInterval(7_200_000), '2h');
});

test('drop: 100k records in chunks of 1000 through the engine', async (t) => {
  const h = await harness({ rate: 50_000, window: 1, interval: '1h', summary: false });
  t.after(() => h.stop());
  const chunk = lines(1000);
  const t0 = performance.now();
  let passed = 0;
  for (let i = 0; i < 100; i++) passed += (await h.filter(chunk)).length;
  assert.equal(passed, 50_000);
  assert.ok(performance.now() - t0 < 5000);
});
