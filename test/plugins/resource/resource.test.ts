import { test } from 'node:test';
import assert from 'node:assert/strict';
import resource from '../../../plugins/resource/index.js';
import { ConfigError, createHarness } from '../../../core/testing/index.js';
import type { Inventory, ResourceSample } from '../../../plugins/resource/resource-sampler.js';

/** A resource record's body: the sample, its readable line, the inventory on the first one. */
type SampleBody = ResourceSample & { log: string; inventory?: Inventory };

test('samples every interval: structured fields, readable line, src/seq, inventory once', async (t) => {
  const h = await createHarness(resource, {
    options: { interval: '150ms', processes: ['self', 'no-such-process-x'], tag: 'res' },
    service: { hostname: 'enclave-9' },
  });
  t.after(() => h.stop());
  const recs = await h.collect({ count: 3 });
  let prev = 0;
  recs.forEach((r, i) => {
    const b = r.body as unknown as SampleBody;
    assert.equal(r.tag, 'res');
    assert.equal(r.meta.src, 'resource:resource.0');
    assert.ok((r.meta.seq as number) > prev && Math.abs((r.meta.seq as number) - Date.now()) < 10_000);
    prev = r.meta.seq as number;
    assert.match(
      b.log,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z cpu=\d+\.\d% mem=\d+\.\d% \(\d+\/\d+ MiB\) load=\d+\.\d\d.* \| self cpu=\S+ rss=\d+\.\dMiB \| no-such-process-x not running$/,
    );
    assert.ok(b.cpu.pct >= 0 && b.cpu.pct <= 100 && b.cpu.cores >= 1);
    assert.ok(b.mem.used > 0 && b.mem.used < b.mem.total);
    assert.equal(b.processes?.[0]?.pids[0], process.pid);
    assert.deepEqual(b.processes?.[1], { name: 'no-such-process-x', pids: [], cpu_pct: null, rss: 0 });
    if (i === 0) assert.equal(b.inventory?.hostname, 'enclave-9');
    else assert.equal(b.inventory, undefined);
  });
  assert.ok(h.counters.samples! >= 3);
});

test('a full output does not pause the sampler: samples are dropped and counted', async (t) => {
  // The harness output never acks and holds 1 byte: the first sample fills it, later ones are dropped.
  const h = await createHarness(resource, { options: { interval: '100ms', inventory: false }, ack: 'manual', output: { buffer_limit: 1 } });
  t.after(() => h.stop({ grace: 100 }));
  await h.waitFor(() => (h.counters.dropped_records ?? 0) >= 2, { what: 'dropped samples' });
  assert.ok(h.counters.samples! >= 1);
});

test('config errors: unknown option, too short interval, unknown log field', async () => {
  const bad = (options: Record<string, unknown>, re: RegExp) =>
    assert.rejects(createHarness(resource, { options }), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  await bad({ intervall: 5 }, /unknown key "intervall" \(did you mean "interval"\?\)/);
  await bad({ interval: '50ms' }, /interval: expected an interval of at least 100ms, found 50ms/);
  await bad({ log_fields: ['cpu', 'disk'] }, /expected one of "cpu", .*found "disk"/);
});
