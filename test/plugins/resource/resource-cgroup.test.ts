import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectCgroup, statValue } from '../../../plugins/resource/resource-cgroup.js';
import { FakeRoot } from './fixture.js';

test('statValue reads one key of memory.stat', () => {
  const s = 'anon 5\ninactive_file 200\ntotal_inactive_file 300\n';
  assert.equal(statValue(s, 'anon'), 5);
  assert.equal(statValue(s, 'inactive_file'), 200);
  assert.equal(statValue(s, 'total_inactive_file'), 300);
  assert.equal(statValue(s, 'file'), undefined);
});

test('v2: own limit and usage, effective limit from ancestors, working set', async (t) => {
  const r = new FakeRoot();
  t.after(() => r.cleanup());
  r.write('proc/self/cgroup', '0::/a/b\n');
  r.write('cg/cgroup.controllers', 'cpu memory\n');
  r.write('cg/a/b/memory.current', '1000\n');
  r.write('cg/a/b/memory.max', 'max\n');
  r.write('cg/a/b/memory.stat', 'anon 1\ninactive_file 200\n');
  r.write('cg/a/memory.max', '4096\n');
  const cg = await detectCgroup(r.path('proc'), r.path('cg'));
  assert.equal(cg?.version, 2);
  assert.equal(cg?.dir, r.path('cg/a/b'));
  assert.deepEqual(await cg!.read(), { version: 2, limit: 4096, usage: 1000, working_set: 800, pct: 19.53 });
  r.write('cg/a/b/memory.max', '2048\n'); // own limit is re-read every sample
  assert.equal((await cg!.read()).limit, 2048);
});

test('v2 in a cgroup namespace ("/") and with an invisible path fall back to the mount root', async (t) => {
  const r = new FakeRoot();
  t.after(() => r.cleanup());
  r.write('proc/self/cgroup', '0::/\n');
  r.write('cg/memory.current', '5\n');
  r.write('cg/memory.max', '10\n');
  let cg = await detectCgroup(r.path('proc'), r.path('cg'));
  assert.deepEqual(await cg!.read(), { version: 2, limit: 10, usage: 5, working_set: 5, pct: 50 });
  r.write('proc/self/cgroup', '0::/kubepods/pod1/ctr\n');
  cg = await detectCgroup(r.path('proc'), `${r.path('cg')}/`);
  assert.equal(cg?.dir, r.path('cg'));
});

test('v1: hierarchical limit, total_inactive_file, unlimited', async (t) => {
  const r = new FakeRoot();
  t.after(() => r.cleanup());
  r.write('proc/self/cgroup', '5:cpu,cpuacct:/\n4:memory:/x\n0::/\n');
  r.write('cg/memory/x/memory.limit_in_bytes', '9223372036854771712\n');
  r.write('cg/memory/x/memory.usage_in_bytes', '5000\n');
  r.write('cg/memory/x/memory.stat', 'cache 10\nhierarchical_memory_limit 8192\ninactive_file 10\ntotal_inactive_file 1000\n');
  const cg = await detectCgroup(r.path('proc'), r.path('cg'));
  assert.equal(cg?.version, 1);
  assert.deepEqual(await cg!.read(), { version: 1, limit: 8192, usage: 5000, working_set: 4000, pct: 48.83 });
  r.write('cg/memory/x/memory.stat', 'hierarchical_memory_limit 9223372036854771712\n');
  assert.deepEqual(await cg!.read(), { version: 1, limit: null, usage: 5000, working_set: 5000, pct: null });
});

test('no memory cgroup: undefined', async (t) => {
  const r = new FakeRoot();
  t.after(() => r.cleanup());
  r.write('proc/self/cgroup', '3:cpu:/\n0::/\n');
  assert.equal(await detectCgroup(r.path('proc'), r.path('cg')), undefined);
  assert.equal(await detectCgroup(r.path('nope'), r.path('cg')), undefined);
});

test('this machine: detection works and the values are plausible', async () => {
  const cg = await detectCgroup();
  if (!cg) return; // no memory cgroup here: nothing to check
  const m = await cg.read();
  assert.ok(m.usage > 0);
  assert.ok(m.working_set <= m.usage);
  assert.ok(m.limit === null || m.limit > 0);
});
