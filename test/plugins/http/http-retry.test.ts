// Retries end to end: 503 then success stores each record once; 429's Retry-After holds the next
// request back; a 400 is not retried: dropped, counted, and logged with the answer's body.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../helpers/wait.js';
import { startAgent } from './agent.js';
import { startReceiver, type Received } from './receiver.js';

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);
/** The log field of every document of the requests answered 2xx. */
const stored = (rs: Received[]) =>
  rs
    .filter((r) => (r.answered ?? 0) < 300)
    .flatMap((r) =>
      r.text
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { log: string }).log),
    );

test('503 then 200: each record is stored exactly once, in order', async (t) => {
  const rx = await startReceiver(t);
  rx.script((r) => (r.n < 2 ? { status: 503, body: 'overloaded' } : undefined));
  const a = await startAgent(t, `url: '${rx.url}'`, { samples: 10 });
  await rx.waitFor((r) => stored(r).length >= 10);
  await waitFor(async () => (await a.counters()).records_out === 10, { what: 'records_out 10' });
  assert.deepEqual(stored(rx.requests), lines(10));
  const c = await a.counters();
  assert.ok(c.retries! >= 2, JSON.stringify(c));
  assert.equal(c.dropped_records, 0);
  assert.ok(a.cli.logs().some((l) => String(l.msg).includes('answered HTTP 503 (will retry): overloaded')));
  assert.equal(await a.stop(), 0);
});

test('429 with Retry-After: the next request waits for it (not just retry_base)', async (t) => {
  const rx = await startReceiver(t);
  rx.script((r) => (r.n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: '{"error":"rate limited"}' } : undefined));
  const a = await startAgent(t, `url: '${rx.url}'`, { samples: 1 });
  await rx.waitFor((r) => stored(r).length >= 1);
  const gap = rx.requests[1]!.at - rx.requests[0]!.at;
  assert.ok(gap >= 950, `second request after ${gap} ms, Retry-After was 1 s (retry_base 50ms)`);
  assert.deepEqual(stored(rx.requests), ['line 1']);
  await waitFor(async () => (await a.counters()).retry_after_waits === 1, { what: 'retry_after_waits 1' });
  assert.equal(await a.stop(), 0);
});

test('400: dropped at once, counted, logged with the body; later records still go through', async (t) => {
  const rx = await startReceiver(t);
  rx.script((r) => (r.text.includes('"line 1"') ? { status: 400, body: '{"error":"field [x] is not allowed"}' } : undefined));
  const a = await startAgent(t, `url: '${rx.url}'`, { samples: 3, rate: 2 });
  await rx.waitFor((r) => stored(r).length >= 2);
  await waitFor(async () => (await a.counters()).dropped_records === 1, { what: 'dropped_records 1' });
  assert.deepEqual(stored(rx.requests), ['line 2', 'line 3']);
  assert.equal(rx.requests.filter((r) => r.text.includes('"line 1"')).length, 1, 'not retried');
  const log = a.cli.logs().find((l) => String(l.msg).includes('rejected the request with HTTP 400'));
  assert.ok(log, a.cli.stderr.join('\n'));
  assert.match(String(log.msg), /dropping 1 records of app: .*rejected the request with HTTP 400 \(not retried\): \{"error":"field \[x\] is not allowed"\}/);
  assert.equal(await a.stop(), 0);
});
