// GET /api/v1/health means something (as Fluent Bit's health check): errors and failed retries
// over hc_period, and an output that holds records but delivers nothing (hc_stall_timeout).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthCheck, type HealthOptions } from '../../core/health.js';
import type { InstanceMetrics } from '../../core/engine/engine.js';
import { startCli, waitExit } from '../helpers/cli.js';
import { freePort, httpGet } from '../helpers/net.js';
import { fixture } from '../helpers/plugins.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const OPTS: HealthOptions = { errorsCount: 2, retryFailureCount: 1, periodMs: 60_000, stallMs: 30_000 };

/** A HealthCheck over metrics and a clock the test sets. */
function rig(opts = OPTS) {
  let now = 1_000_000;
  const out = { errors: 0, retries_failed: 0, records_out: 0, buffered_bytes: 0 };
  const inp = { errors: 0, retries_failed: 0 };
  const metrics = (): InstanceMetrics[] => [
    { id: 'in', kind: 'input', name: 'tail', counters: { ...inp }, gauges: [] },
    { id: 'out', kind: 'output', name: 'vsock-forward', counters: { ...out }, gauges: ['buffered_bytes'] },
  ];
  const hc = new HealthCheck(
    () => opts,
    metrics,
    () => now,
  );
  return { hc, out, inp, advance: (ms: number) => void (now += ms) };
}

test('health: errors of every instance over the period; healthy again once they age out', () => {
  const { hc, out, inp, advance } = rig();
  hc.sample();
  assert.deepEqual(hc.report(), { healthy: true, reasons: [] });
  advance(10_000);
  out.errors = 2;
  hc.sample();
  assert.equal(hc.report().healthy, true, '2 errors is not more than hc_errors_count 2');
  advance(10_000);
  inp.errors = 1;
  assert.deepEqual(hc.report(), { healthy: false, reasons: ['3 errors in the last 60 s (more than hc_errors_count 2)'] });
  // Sampled each second, as the endpoint does, until the errors are older than the period.
  for (let i = 0; i < 45; i++) {
    advance(1000);
    hc.sample();
  }
  assert.equal(hc.report().healthy, false, 'the errors are 45-55 s old: still within the period');
  for (let i = 0; i < 20; i++) {
    advance(1000);
    hc.sample();
  }
  assert.deepEqual(hc.report(), { healthy: true, reasons: [] });
});

test('health: chunks dropped after their last retry', () => {
  const { hc, out, advance } = rig();
  hc.sample();
  advance(1000);
  out.retries_failed = 2;
  assert.deepEqual(hc.report().reasons, ['2 chunks dropped after their last retry in the last 60 s (more than hc_retry_failure_count 1)']);
});

test('health: an output holding records without delivering is stalled; progress or an empty buffer is not', () => {
  const { hc, out, advance } = rig();
  out.buffered_bytes = 500;
  hc.sample();
  advance(29_000);
  assert.equal(hc.report().healthy, true);
  advance(1000);
  assert.deepEqual(hc.report().reasons, ['output out holds records and has delivered nothing for 30 s (hc_stall_timeout 30 s)']);
  out.records_out = 10;
  assert.equal(hc.report().healthy, true, 'a delivery is progress');
  advance(40_000);
  out.buffered_bytes = 0;
  assert.equal(hc.report().healthy, true, 'an output that holds nothing is idle, not stalled');
  const off = rig({ ...OPTS, stallMs: 0 });
  off.out.buffered_bytes = 1;
  off.hc.sample();
  off.advance(3_600_000);
  assert.equal(off.hc.report().healthy, true, 'hc_stall_timeout 0 turns the check off');
});

test('health: an instance reporting a *_failing gauge above 0 is unhealthy while it does', () => {
  let failing = 1;
  const hc = new HealthCheck(
    () => OPTS,
    (): InstanceMetrics[] => [
      { id: 'link', kind: 'input', name: 'vsock', counters: { unseal_senders_failing: failing, dropped_failing: 5 }, gauges: ['unseal_senders_failing'] },
    ],
  );
  assert.deepEqual(hc.report(), { healthy: false, reasons: ['input link reports unseal_senders_failing 1 (its log says why)'] });
  failing = 0;
  assert.deepEqual(hc.report(), { healthy: true, reasons: [] }, 'a total (not a gauge) named *_failing does not count');
});

test('health over HTTP: 200 while delivering; gauges typed gauge', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  writeConfig(
    dir,
    'health.yaml',
    `
service:
  http_listen: 127.0.0.1:${port}
pipeline:
  inputs:
    - name: dummy
      dummy: 'a \${seq}'
      rate: 100
      samples: 3
  outputs:
    - name: rotated-file
      alias: files
      workspace: ./ws
      file: a.log
`,
  );
  const agent = startCli(['run', 'health.yaml'], { owner: t, cwd: dir });
  const base = `http://127.0.0.1:${port}`;
  await agent.waitForLine(/metrics on/, { stream: 'stderr' });
  await waitFor(async () => (await httpGet(`${base}/api/v1/metrics`)).body.includes('"records_out":3'), { what: '3 records delivered' });
  assert.deepEqual(await httpGet(`${base}/api/v1/health`).then((r) => [r.status, r.body]), [200, '{"status":"ok"}']);
  const prom = (await httpGet(`${base}/metrics`)).body.split('\n');
  assert.ok(prom.includes('# TYPE qlog_output_open_files gauge'), 'open_files (set, not added to) is a gauge');
  assert.ok(prom.includes('# TYPE qlog_output_records_out counter'));
  assert.ok(prom.includes('# TYPE qlog_output_retries_failed counter'));
  agent.signal('SIGTERM');
  assert.deepEqual(await waitExit(agent), { code: 0, signal: null });
});

test('health over HTTP: 500 naming the output once it holds records and delivers none for hc_stall_timeout', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  writeConfig(
    dir,
    'stall.yaml',
    `
service:
  http_listen: 127.0.0.1:${port}
  hc_stall_timeout: 1s
  grace: 500ms
  plugins: ['${fixture('hang-output')}']
pipeline:
  inputs:
    - name: dummy
      samples: 1
  outputs:
    - name: hang
      alias: stuck
`,
  );
  const agent = startCli(['run', 'stall.yaml'], { owner: t, cwd: dir });
  await agent.waitForLine(/hang: flush/, { stream: 'stderr' });
  await agent.waitForLine(/metrics on/, { stream: 'stderr' });
  const base = `http://127.0.0.1:${port}`;
  const r = await waitFor(
    async () => {
      const h = await httpGet(`${base}/api/v1/health`);
      return h.status === 500 ? h : undefined;
    },
    { what: 'health 500', timeoutMs: 10_000, intervalMs: 100 },
  );
  const body = JSON.parse(r.body) as { status: string; reasons: string[] };
  assert.equal(body.status, 'error');
  assert.equal(body.reasons.length, 1);
  assert.match(body.reasons[0]!, /^output stuck holds records and has delivered nothing for \d+ s \(hc_stall_timeout 1 s\)$/);
  agent.signal('SIGTERM');
  assert.equal((await waitExit(agent)).signal, null);
});
