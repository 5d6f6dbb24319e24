import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outLines, runCli, unknownOptionConfig } from '../rate/cli-harness.js';
import type { Inventory, ResourceSample } from '../../../plugins/resource/resource-sampler.js';

/** One record as stdout's json format prints a resource sample. */
type SampleLine = ResourceSample & { tag: string; log: string; inventory?: Inventory; meta: { src: string; seq: number } };

test('CLI: resource (interval 200ms) -> stdout: structured samples with a readable log line', async () => {
  const r = await runCli(
    'run',
    `
service:
  log_level: warn
  state_dir: \${DIR}/state
pipeline:
  inputs:
    - name: resource
      tag: enclave.resource
      interval: 200ms
      processes: [self]
  outputs:
    - name: stdout
      format: json
      include_meta: true
`,
    { until: (s) => outLines(s).length >= 4 },
  );
  assert.equal(r.code, 0, r.stderr);
  const recs = outLines(r.stdout).map((l) => JSON.parse(l) as SampleLine);
  assert.ok(recs.length >= 4);
  let prevSeq = 0;
  recs.forEach((x, i) => {
    assert.equal(x.tag, 'enclave.resource');
    assert.match(
      x.log,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z cpu=\d+\.\d% mem=\d+\.\d% \(\d+\/\d+ MiB\) load=\d+\.\d\d( cgroup=.*)? \| self cpu=(\d+\.\d%|-) rss=\d+\.\dMiB$/,
    );
    assert.ok(x.cpu.pct >= 0 && x.cpu.pct <= 100);
    assert.ok(x.mem.total > 0 && x.mem.used > 0 && x.mem.used <= x.mem.total);
    assert.ok(x.interval_ms > 100 && x.interval_ms < 2000, String(x.interval_ms));
    assert.equal(typeof x.load.avg1, 'number');
    assert.ok(x.processes?.[0]?.pids.length === 1 && x.processes[0].rss > 10 * 1048576);
    assert.equal(x.meta.src, 'resource:resource.0');
    assert.ok(x.meta.seq > prevSeq);
    prevSeq = x.meta.seq;
    if (i === 0) assert.ok(x.inventory && x.inventory.cores >= 1 && x.inventory.mem_total === x.mem.total);
    else assert.equal(x.inventory, undefined);
  });
});

test('CLI: resource rejects an unknown option (validate exits 2)', async () => {
  const r = await runCli('validate', unknownOptionConfig('inputs', 'resource', 'intervall'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unknown key "intervall" \(did you mean "interval"\?\)/);
});

test('CLI: resource rejects a too short interval and an unknown log field', async () => {
  const base = unknownOptionConfig('inputs', 'resource', 'x');
  let r = await runCli('validate', base.replace('      x: 1\n', '      interval: 10ms\n'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /interval: expected an interval of at least 100ms, found 10ms/);
  r = await runCli('validate', base.replace('      x: 1\n', '      log_fields: [cpu, disk]\n'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /expected one of "cpu", .*found "disk"/);
});
