// service.http_listen serves per-instance counters: Prometheus text at /metrics, JSON at /api/v1/metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, waitExit } from '../helpers/cli.js';
import { freePort, httpGet } from '../helpers/net.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

interface Metric {
  id: string;
  kind: string;
  name: string;
  counters: Record<string, number>;
}

test('metrics endpoint: /metrics (Prometheus) and /api/v1/metrics (JSON)', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  writeConfig(
    dir,
    'metrics.yaml',
    `
service:
  http_listen: 127.0.0.1:${port}
pipeline:
  inputs:
    - name: dummy
      alias: gen
      dummy: 'm \${seq}'
      rate: 1000
      samples: 5
  outputs:
    - name: stdout
      alias: out
`,
  );
  const agent = startCli(['run', 'metrics.yaml'], { owner: t, cwd: dir });
  await agent.waitForLine(/^m 5$/);
  const base = `http://127.0.0.1:${port}`;

  // The output acks right after its write; wait until the counters say so.
  const metrics = await waitFor(
    async () => {
      const r = await httpGet(`${base}/api/v1/metrics`);
      const m = JSON.parse(r.body) as Metric[];
      return m.find((x) => x.id === 'out')?.counters.records_out === 5 ? { r, m } : undefined;
    },
    { what: 'records_out 5 on the output', intervalMs: 20 },
  );
  assert.equal(metrics.r.status, 200);
  assert.match(metrics.r.type, /^application\/json/);
  assert.deepEqual(
    metrics.m.map((x) => [x.id, x.kind, x.name]),
    [
      ['gen', 'input', 'dummy'],
      ['out', 'output', 'stdout'],
    ],
  );
  const gen = metrics.m[0]!.counters;
  const out = metrics.m[1]!.counters;
  assert.equal(gen.records_in, 5, 'an input counts what it received from its source');
  assert.equal(gen.bytes_in, 5 * 4);
  assert.equal(gen.records_out, 5);
  assert.equal(gen.bytes_out, 5 * 4); // "m 1".."m 5": 3 characters + newline each
  assert.equal(out.records_in, 5);
  assert.equal(out.records_out, 5);
  assert.equal(out.bytes_out, 20);
  assert.equal(out.errors, 0);
  assert.equal(out.dropped_records, 0);
  assert.equal(out.buffered_bytes, 0);

  const prom = await httpGet(`${base}/metrics`);
  assert.equal(prom.status, 200);
  assert.match(prom.type, /^text\/plain/);
  const lines = prom.body.trimEnd().split('\n');
  for (const l of [
    '# TYPE qlog_input_records_out counter',
    'qlog_input_records_out{id="gen",plugin="dummy"} 5',
    'qlog_input_bytes_out{id="gen",plugin="dummy"} 20',
    '# TYPE qlog_input_records_in counter',
    'qlog_input_records_in{id="gen",plugin="dummy"} 5',
    '# TYPE qlog_output_records_out counter',
    'qlog_output_records_out{id="out",plugin="stdout"} 5',
    'qlog_output_errors{id="out",plugin="stdout"} 0',
    '# TYPE qlog_output_buffered_bytes gauge',
    'qlog_output_buffered_bytes{id="out",plugin="stdout"} 0',
  ]) {
    assert.ok(lines.includes(l), `/metrics has the line: ${l}`);
  }
  // Every sample line is `name{labels} number`, and each metric name has one # TYPE line before its samples.
  const typed = new Set<string>();
  for (const l of lines) {
    if (l.startsWith('# TYPE ')) {
      const name = l.split(' ')[2]!;
      assert.ok(!typed.has(name), `one # TYPE line for ${name}`);
      typed.add(name);
      continue;
    }
    const m = /^(qlog_[a-z_]+)(?:\{id="[^"]+",plugin="[^"]+"\})? -?\d+(\.\d+)?(e[-+]\d+)?$/.exec(l);
    assert.ok(m, `a Prometheus sample line: ${l}`);
    assert.ok(typed.has(m[1]!), `# TYPE before ${m[1]}`);
  }

  // The process itself: memory and CPU, in both forms.
  const rss = lines.find((l) => l.startsWith('qlog_process_resident_memory_bytes '));
  assert.ok(rss && Number(rss.split(' ')[1]) > 10e6, `/metrics has the agent's RSS: ${rss}`);
  assert.ok(lines.includes('# TYPE qlog_process_cpu_seconds_total counter'));
  const proc = JSON.parse((await httpGet(`${base}/api/v1/process`)).body) as Record<string, number>;
  for (const k of [
    'resident_memory_bytes',
    'heap_used_bytes',
    'heap_total_bytes',
    'external_memory_bytes',
    'array_buffers_bytes',
    'cpu_seconds_total',
    'uptime_seconds',
  ])
    assert.ok(typeof proc[k] === 'number' && proc[k]! > 0, `/api/v1/process has ${k}: ${proc[k]}`);

  assert.deepEqual(await httpGet(`${base}/api/v1/health`).then((r) => [r.status, r.body]), [200, '{"status":"ok"}']);
  assert.equal((await httpGet(`${base}/nope`)).status, 404);

  agent.signal('SIGTERM');
  assert.deepEqual(await waitExit(agent), { code: 0, signal: null });
});
