// End-to-end acknowledgement: an input's onSettled fires once every output the chunk was routed to
// has acked it (delivered: true), or with delivered: false once one of them dropped it (PermanentError,
// retry_limit reached). Retries back off exponentially and are counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin, nowNs, PermanentError, type Chunk, type EmitOptions, type LogRecord, type Settlement } from '../../core/index.js';
import { startEngine } from '../helpers/engine.js';
import { deferred, waitFor, withTimeout } from '../helpers/wait.js';

const empty = { type: 'object', additionalProperties: false, properties: {} } as const;

/** An input the test drives: `emit(seq...)` hands one chunk to the pipeline and resolves with its settlement. */
function manualInput() {
  let ctx: { emit(tag: string, r: LogRecord[], o?: EmitOptions): boolean } | undefined;
  const plugin = definePlugin({
    kind: 'input',
    name: 'manual',
    description: 'emits when the test says so',
    qlog: '*',
    schema: empty,
    setup(c) {
      ctx = c;
    },
  });
  const emit = (...seqs: number[]) => {
    const settled = deferred<Settlement>();
    let calls = 0;
    const records: LogRecord[] = seqs.map((seq) => ({ time: nowNs(), tag: 'app', body: `line ${seq}`, meta: { seq } }));
    ctx!.emit('app', records, {
      onSettled: (s) => {
        calls++;
        settled.resolve(s);
      },
    });
    return { settled: settled.promise, calls: () => calls };
  };
  return { plugin, emit };
}

/** An output whose flush behaviour is a function of the test's choosing; records every attempt. */
function scriptedOutput(name: string, behaviour: (chunk: Chunk, attempt: number) => Promise<void> | void) {
  const attempts: { at: number; seqs: number[] }[] = [];
  const plugin = definePlugin({
    kind: 'output',
    name,
    description: 'flush does what the test says',
    qlog: '*',
    schema: empty,
    setup(ctx) {
      ctx.hooks.flush.tapPromise('t', async (chunk) => {
        attempts.push({ at: performance.now(), seqs: chunk.records.map((r) => r.meta.seq as number) });
        await behaviour(chunk, attempts.length);
      });
    },
  });
  return { plugin, attempts };
}

test('onSettled fires only after every routed output acked (one of two delayed)', async (t) => {
  const input = manualInput();
  const fast = scriptedOutput('fast', () => undefined);
  const gate = deferred();
  const slow = scriptedOutput('slow', () => gate.promise);
  const h = await startEngine(
    t,
    `
pipeline:
  inputs: [{ name: manual }]
  outputs: [{ name: fast }, { name: slow }]
`,
    [input.plugin, fast.plugin, slow.plugin],
  );
  const e = input.emit(1, 2, 3);
  let settled: Settlement | undefined;
  void e.settled.then((s) => (settled = s));
  const counters = (id: string) => h.engine.metrics().find((m) => m.id === id)!.counters;
  // records_out is counted right before the ack, in the same synchronous step.
  await waitFor(() => counters('fast.0').records_out === 3 && slow.attempts.length === 1, { what: 'the fast ack and the slow flush' });
  assert.equal(settled, undefined, 'not settled while the slow output has not acked');
  gate.resolve();
  assert.deepEqual(await withTimeout(e.settled, 5000, 'settlement'), { delivered: true });
  assert.equal(e.calls(), 1, 'onSettled is called once');
  assert.deepEqual(fast.attempts[0]!.seqs, [1, 2, 3]);
  assert.deepEqual(slow.attempts[0]!.seqs, [1, 2, 3]);
  for (const m of h.engine.metrics().filter((x) => x.kind === 'output')) {
    assert.equal(m.counters.records_out, 3, m.id);
    assert.equal(m.counters.errors, 0, m.id);
  }
});

test('a PermanentError drops at once: delivered false, counted, other output still acks', async (t) => {
  const input = manualInput();
  const ok = scriptedOutput('ok', () => undefined);
  const bad = scriptedOutput('bad', () => {
    throw new PermanentError('rejected by the peer');
  });
  const h = await startEngine(
    t,
    `
pipeline:
  inputs: [{ name: manual }]
  outputs: [{ name: ok }, { name: bad, retry_base: 10ms }]
`,
    [input.plugin, ok.plugin, bad.plugin],
  );
  assert.deepEqual(await withTimeout(input.emit(1, 2).settled, 5000, 'settlement'), { delivered: false });
  assert.equal(bad.attempts.length, 1, 'no retry after a PermanentError');
  assert.equal(ok.attempts.length, 1);
  const c = h.engine.metrics().find((m) => m.id === 'bad.0')!.counters;
  assert.equal(c.dropped_records, 2);
  assert.equal(c.errors, 1);
  assert.equal(c.retries, 0);
  assert.equal(c.records_out, 0);
  const log = h.logs.find((l) => l.plugin === 'bad.0' && l.level === 50);
  assert.ok(log, 'the drop is logged with the instance id');
  assert.match(String(log.msg), /^bad\.0: dropping 2 records of app: rejected by the peer$/);
});

test('retry_limit reached: retried with growing delays, then dropped (delivered false)', async (t) => {
  const input = manualInput();
  const failing = scriptedOutput('failing', () => Promise.reject(new Error('connection refused')));
  const h = await startEngine(
    t,
    `
pipeline:
  inputs: [{ name: manual }]
  outputs: [{ name: failing, retry_limit: 3, retry_base: 20ms, retry_max: 1s }]
`,
    [input.plugin, failing.plugin],
  );
  assert.deepEqual(await withTimeout(input.emit(7).settled, 5000, 'settlement'), { delivered: false });
  assert.equal(failing.attempts.length, 4, '1 attempt + 3 retries');
  // Equal jitter: the n-th retry waits between base*2^(n-1)/2 and base*2^(n-1).
  const gaps = failing.attempts.slice(1).map((a, i) => a.at - failing.attempts[i]!.at);
  for (const [i, min] of [10, 20, 40].entries()) assert.ok(gaps[i]! >= min - 2, `retry ${i + 1} waited ${gaps[i]!.toFixed(1)} ms, expected >= ${min}`);
  const c = h.engine.metrics().find((m) => m.id === 'failing.0')!.counters;
  assert.equal(c.errors, 4);
  assert.equal(c.retries, 3);
  assert.equal(c.retried_records, 3);
  assert.equal(c.dropped_records, 1);
  assert.equal(c.records_out, 0);
  assert.equal(c.buffered_bytes, 0, 'a dropped chunk frees its buffer space');
  assert.ok(h.logs.some((l) => l.plugin === 'failing.0' && l.level === 40 && /flush failed \(connection refused\); retrying in \d+ ms/.test(String(l.msg))));
  assert.ok(h.logs.some((l) => l.plugin === 'failing.0' && l.level === 50 && /\(retry_limit 3 reached\)$/.test(String(l.msg))));
});

test('a flush that fails then succeeds is retried and acked (delivered true), order kept', async (t) => {
  const input = manualInput();
  const flaky = scriptedOutput('flaky', (_c, attempt) => (attempt <= 2 ? Promise.reject(new Error(`boom ${attempt}`)) : undefined));
  const h = await startEngine(
    t,
    `
pipeline:
  inputs: [{ name: manual }]
  outputs: [{ name: flaky, retry_base: 5ms, flush_max_size: 10 }]
`,
    [input.plugin, flaky.plugin],
  );
  const a = input.emit(1);
  const b = input.emit(2);
  assert.deepEqual(await withTimeout(a.settled, 5000, 'first settlement'), { delivered: true });
  assert.deepEqual(await withTimeout(b.settled, 5000, 'second settlement'), { delivered: true });
  assert.deepEqual(
    flaky.attempts.map((x) => x.seqs),
    [[1], [1], [1], [2]],
    'the failed chunk is retried before the next one is flushed (workers: 1)',
  );
  const c = h.engine.metrics().find((m) => m.id === 'flaky.0')!.counters;
  assert.equal(c.errors, 2);
  assert.equal(c.retries, 2);
  assert.equal(c.records_out, 2);
  assert.equal(c.dropped_records, 0);
});

test('a chunk routed to no output settles at once as delivered', async (t) => {
  const input = manualInput();
  const out = scriptedOutput('elsewhere', () => undefined);
  const h = await startEngine(
    t,
    `
pipeline:
  inputs: [{ name: manual }]
  outputs: [{ name: elsewhere, match: other }]
`,
    [input.plugin, out.plugin],
  );
  assert.deepEqual(await withTimeout(input.emit(1).settled, 5000, 'settlement'), { delivered: true });
  assert.equal(out.attempts.length, 0);
  assert.equal(h.engine.metrics().find((m) => m.kind === 'input')!.counters.unrouted_records, 1);
});
