// dummy input: the record it emits (line or JSON, ${seq}), samples, rate, backpressure, options.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import dummy from '../../../plugins/dummy/index.js';
import { createHarness } from '../../../core/testing/index.js';
import { runCli } from '../../helpers/cli.js';
import { tempDir, writeConfig } from '../../helpers/tmp.js';

test('defaults: one {"message":"dummy"} object per second, tag dummy.0, meta src/seq', async () => {
  const h = await createHarness(dummy);
  assert.deepEqual(h.options, { dummy: '{"message":"dummy"}', rate: 1, samples: 0 });
  const [r] = await h.collect({ count: 1 });
  assert.deepEqual(r!.body, { message: 'dummy' });
  assert.equal(r!.tag, 'dummy.0');
  // src names the run (seq restarts at 1 each run, so a restart must not look like a replay).
  assert.match(String(r!.meta.src), /^dummy:dummy\.0:[0-9a-z]+$/);
  assert.equal(r!.meta.seq, 1);
  await h.stop();
});

test('a line with ${seq} (a template: not read from the environment); samples stops it', async () => {
  const h = await createHarness(dummy, { options: { dummy: 'line ${seq}', rate: 200, samples: 5, tag: 'app' }, env: {} });
  const got = await h.collect({ count: 5 });
  assert.deepEqual(
    got.map((r) => r.body),
    ['line 1', 'line 2', 'line 3', 'line 4', 'line 5'],
  );
  assert.deepEqual(
    got.map((r) => r.meta.seq),
    [1, 2, 3, 4, 5],
  );
  assert.ok(got.every((r) => r.tag === 'app'));
  assert.deepEqual(await h.collect({ ms: 100 }), [], 'nothing after samples');
  await h.stop();
});

test('a JSON record with ${seq} becomes an object body with the counter', async () => {
  const h = await createHarness(dummy, { options: { dummy: '{"n":"${seq}","msg":"x"}', rate: 100, samples: 2 } });
  assert.deepEqual(
    (await h.collect({ count: 2 })).map((r) => r.body),
    [
      { n: '1', msg: 'x' },
      { n: '2', msg: 'x' },
    ],
  );
  await h.stop();
});

test('rate: about rate records per second (bounded by time, not by timer ticks)', async () => {
  const h = await createHarness(dummy, { options: { rate: 200 } });
  const t0 = performance.now();
  await sleep(500); // the point: the rate is measured over this time
  const n = (await h.collect({ ms: 1 })).length;
  const expected = (200 * (performance.now() - t0)) / 1000;
  assert.ok(n >= expected * 0.5 && n <= expected * 1.2 + 2, `${n} records, expected about ${expected.toFixed(0)}`);
  await h.stop();
});

test('backpressure: with a full output dummy waits (no pile-up), then continues after acks', async () => {
  const h = await createHarness(dummy, { options: { rate: 5000, dummy: 'x'.repeat(100) }, ack: 'manual', output: { buffer_limit: '1KiB' } });
  await h.waitFor(() => h.paused, { what: 'dummy paused by the full output' });
  const n = h.received.length;
  await sleep(100); // the point: nothing arrives while paused
  assert.ok(h.received.length - n <= 1, 'no records while paused');
  assert.ok(h.received.length * 101 <= 2048, `at most ~buffer_limit bytes in flight, got ${h.received.length} records`);
  h.ack();
  await h.waitFor(() => h.received.length > n, { what: 'records after the acks (continues after the acks)' });
  h.ack();
  await h.stop({ grace: 200 });
});

test('invalid options: unknown key (qlog validate exits 2 with file:line:col), rate must be > 0', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(
    dir,
    'c.yaml',
    `
pipeline:
  inputs:
    - name: dummy
      rat: 5
  outputs:
    - name: stdout
`,
  );
  const r = await runCli(['validate', file], { cwd: dir, owner: t });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /c\.yaml:4:7: pipeline\.inputs\[0\]\.rat: unknown key "rat" \(did you mean "rate"\?\); allowed keys: .*dummy, rate, samples/);
  await assert.rejects(createHarness(dummy, { options: { rate: 0 } }), /options: rate: expected .*> 0, found 0/);
  await assert.rejects(createHarness(dummy, { options: { samples: -1 } }), /options: samples: expected .*>= 0, found -1/);
});
