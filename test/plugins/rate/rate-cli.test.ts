import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outLines, runCli, unknownOptionConfig } from './cli-harness.js';
import { waitFor } from '../../helpers/wait.js';
import { freePort } from '../../helpers/net.js';

const N = 500;
const cfg = (filter: string) => `
service:
  log_level: warn
  state_dir: \${DIR}/state
pipeline:
  inputs:
    - name: dummy
      tag: app.service
      dummy: 'x \${seq}'
      rate: 5000
      samples: ${N}
  filters:
${filter}
  outputs:
    - name: stdout
`;

test('CLI: dummy (fast) -> rate drop -> stdout: exactly the budget passes, the rest is reported in summaries', async () => {
  // summaries pass the filters after rate: the prefix applies to them too
  const summaries = (s: string) => outLines(s).filter((l) => l.startsWith('[app.service] rate: '));
  const dropped = (s: string) => summaries(s).reduce((n, l) => n + Number(/dropped (\d+) records/.exec(l)![1]), 0);
  const passed = (s: string) => outLines(s).filter((l) => l.startsWith('[app.service] x ')).length;
  const filters = "    - name: rate\n      rate: 25\n      window: 4\n      interval: 500ms\n    - name: prefix\n      prefix: '[${tag}] '";
  const r = await runCli('run', cfg(filters), { until: (s) => passed(s) + dropped(s) >= N, timeoutMs: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  // 500 records arrive within ~100 ms; the window (4 x 500 ms, so >= 1.5 s) holds 25 x 4 = 100
  assert.deepEqual(
    outLines(r.stdout).filter((l) => !summaries(l).length),
    Array.from({ length: 100 }, (_, i) => `[app.service] x ${i + 1}`),
  );
  assert.equal(dropped(r.stdout), 400);
  for (const l of summaries(r.stdout)) assert.match(l, /^\[app\.service\] rate: dropped \d+ records for app\.service in the last 500ms$/);
});

test('CLI: dummy (fast) -> rate pause -> stdout: every record arrives, in order, at the limited pace', async () => {
  const r = await runCli('run', cfg('    - name: rate\n      rate: 200\n      window: 1\n      interval: 500ms\n      action: pause'), {
    until: (s) => outLines(s).length >= N,
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    outLines(r.stdout),
    Array.from({ length: N }, (_, i) => `x ${i + 1}`),
  );
  // 200 at once, then 200 per 500 ms slot: at least one slot boundary, i.e. >= ~500ms after start
  assert.ok(r.ms > 600, `${r.ms} ms`);
});

test('CLI: rate rejects an unknown option (validate exits 2)', async () => {
  const r = await runCli('validate', unknownOptionConfig('filters', 'rate', 'rte'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unknown key "rte" \(did you mean "rate"\?\)/);
});

test('CLI: rate rejects a broken key template with its position (validate exits 2)', async () => {
  const r = await runCli('validate', unknownOptionConfig('filters', 'rate', 'x').replace('      x: 1\n', "      key: '${path'\n"));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cfg\.yaml:\d+:\d+: .*key: unclosed "\$\{"/);
});

test('CLI: rate pause backs up into the input: dummy (3000/s, small buffer) is paused, drops nothing, every line arrives', async () => {
  // A port the kernel just gave out (a random one collided with another test's socket once).
  const port = await freePort();
  let stop: () => void = () => undefined;
  const stopWhen = new Promise<void>((r) => (stop = r));
  const run = runCli(
    'run',
    `
service:
  log_level: warn
  state_dir: \${DIR}/state
  http_listen: 127.0.0.1:${port}
pipeline:
  inputs:
    - name: dummy
      tag: app.service
      dummy: 'x \${seq}'
      rate: 3000
      buffer_limit: 2KiB
  filters:
    - name: rate
      rate: 100
      window: 1
      interval: 200ms
      action: pause
  outputs:
    - name: stdout
`,
    { stopWhen, timeoutMs: 30_000 },
  );
  type Metrics = { id: string; counters: Record<string, number> }[];
  let metrics: Metrics = [];
  const counter = (id: string, name: string) => metrics.find((m) => m.id === id)?.counters[name] ?? 0;
  // ... and until 300 records passed the limit (a slow start on a busy machine passes fewer in 1.5 s).
  const seen = () => counter('dummy.0', 'paused') > 0 && counter('rate.0', 'rate_paused_ms') > 0 && counter('rate.0', 'records_out') >= 300;
  // Run at least 1.5 s (the point: a rate over time), and until the metrics show both pauses (the
  // agent starts slowly on a busy machine). If they never do, the assertions below say what is
  // missing, with the agent's stderr.
  const t0 = Date.now();
  await waitFor(
    async () => {
      metrics = (await fetch(`http://127.0.0.1:${port}/api/v1/metrics`).then(
        (r) => r.json(),
        () => [],
      )) as Metrics;
      return seen() && Date.now() - t0 >= 1500;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: 'both pauses in the metrics' },
  ).catch(() => undefined);
  stop();
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(metrics.length > 0, `no metrics from http://127.0.0.1:${port} (stderr: ${r.stderr})`);
  const dummy = metrics.find((m) => m.id === 'dummy.0')!.counters;
  const rate = metrics.find((m) => m.id === 'rate.0')!.counters;
  assert.ok(dummy.paused! > 0, `dummy paused ${dummy.paused} times`);
  assert.equal(dummy.dropped_records, 0);
  assert.ok(rate.rate_paused_ms! > 0);
  const got = outLines(r.stdout);
  assert.deepEqual(
    got,
    Array.from({ length: got.length }, (_, i) => `x ${i + 1}`),
    'no gap, no repeat',
  );
  // 100 per 200 ms slot (+ what was queued when the agent stopped): far below 3000/s
  assert.ok(got.length >= 300 && got.length < (r.ms / 200 + 2) * 100 + 1000, `${got.length} lines in ${r.ms} ms`);
});
