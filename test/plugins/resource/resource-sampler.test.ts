import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceSampler, parseLoadavg } from '../../../plugins/resource/resource-sampler.js';
import { formatLine, LOG_FIELDS } from '../../../plugins/resource/resource-format.js';
import { loadMemSource } from '../../../plugins/resource/resource-mem.js';
import { FakeRoot } from './fixture.js';

test('parseLoadavg', () => {
  assert.deepEqual(parseLoadavg('0.42 0.30 0.25 2/345 6789\n'), { avg1: 0.42, avg5: 0.3, avg15: 0.25, running: 2, tasks: 345 });
  assert.deepEqual(parseLoadavg('1 2 3'), { avg1: 1, avg5: 2, avg15: 3 });
  assert.equal(parseLoadavg('x'), undefined);
});

const MiB = 1048576;
const fakeMem = async () => ({
  total: 1024 * MiB,
  free: 0,
  used: 0,
  active: 0,
  available: 663 * MiB,
  buffcache: 0,
  buffers: 0,
  cached: 0,
  slab: 0,
  reclaimable: 0,
  swaptotal: 512 * MiB,
  swapused: 12 * MiB,
  swapfree: 500 * MiB,
  writeback: null,
  dirty: null,
});

test('sample from a fake /proc: every field, and the log line', async (t) => {
  const r = new FakeRoot();
  t.after(() => r.cleanup());
  r.write('stat', 'cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 0\ncpu1 0\n');
  r.write('loadavg', '0.42 0.30 0.25 2/345 6789\n');
  r.write('self/cgroup', '0::/\n');
  r.write('cg/memory.current', `${120 * MiB}\n`);
  r.write('cg/memory.max', `${512 * MiB}\n`);
  r.proc(100, 'nginx', 0, 2560);
  r.proc(101, 'nginx', 0, 2560);
  let now = 0;
  const s = new ResourceSampler({
    memSource: fakeMem,
    cgroup: true,
    processes: ['nginx', 'sshd'],
    scanEvery: 4,
    procRoot: r.path(),
    cgroupRoot: r.path('cg'),
    now: () => now,
  });
  await s.init();
  r.write('stat', 'cpu  100 25 0 50 20 0 0 5 0 0\ncpu0 0\ncpu1 0\n'); // 200 ticks: 130 busy, 20 iowait, 50 idle
  r.proc(100, 'nginx', 10, 2560);
  r.proc(101, 'nginx', 15, 2560);
  now = 15000;
  const x = await s.sample();
  assert.equal(x.interval_ms, 15000);
  assert.equal(x.cpu.pct, 65);
  assert.equal(x.cpu.iowait_pct, 10);
  assert.equal(x.cpu.steal_pct, 2.5);
  assert.equal(x.cpu.cores, 2);
  assert.deepEqual(x.mem, { total: 1024 * MiB, available: 663 * MiB, used: 361 * MiB, pct: 35.25, swap_total: 512 * MiB, swap_used: 12 * MiB });
  assert.deepEqual(x.load, { avg1: 0.42, avg5: 0.3, avg15: 0.25, running: 2, tasks: 345 });
  assert.deepEqual(x.cgroup, { version: 2, limit: 512 * MiB, usage: 120 * MiB, working_set: 120 * MiB, pct: 23.44 });
  assert.deepEqual(x.processes, [
    { name: 'nginx', pids: [100, 101], cpu_pct: 25, rss: 20 * MiB }, // 25 ticks of 100 per CPU
    { name: 'sshd', pids: [], cpu_pct: null, rss: 0 },
  ]);
  assert.equal(
    formatLine(x, ['cpu', 'mem', 'load', 'cgroup', 'processes']),
    'cpu=65.0% mem=35.3% (361/1024 MiB) load=0.42 cgroup=23.4% (120/512 MiB) | nginx cpu=25.0% rss=20.0MiB n=2 | sshd not running',
  );
  assert.equal(formatLine(x, ['iowait', 'steal', 'swap']), 'iowait=10.0% steal=2.5% swap=12/512 MiB');
  assert.equal(formatLine(x, ['processes']), 'nginx cpu=25.0% rss=20.0MiB n=2 | sshd not running');
  assert.equal(formatLine({ ...x, cgroup: { ...x.cgroup!, limit: null, pct: null } }, ['cgroup']), 'cgroup=120 MiB (no limit)');
  const inv = await s.inventory();
  assert.equal(inv.cores, 2);
  assert.equal(inv.mem_total, 1024 * MiB);
});

test('sample of this machine: plausible', async () => {
  const s = new ResourceSampler({ memSource: await loadMemSource(), cgroup: true, processes: ['self'], scanEvery: 4 });
  await s.init();
  const end = Date.now() + 200;
  while (Date.now() < end);
  const x = await s.sample();
  assert.ok(x.interval_ms >= 190 && x.interval_ms < 3000, String(x.interval_ms));
  assert.ok(x.cpu.pct > 0 && x.cpu.pct <= 100);
  assert.ok(x.mem.total > 64 * MiB && x.mem.used > 0 && x.mem.used < x.mem.total);
  assert.ok(x.load.avg1 >= 0);
  assert.equal(x.processes?.[0]?.pids[0], process.pid);
  assert.ok((x.processes?.[0]?.cpu_pct ?? 0) > 10);
  const line = formatLine(x, LOG_FIELDS);
  assert.match(line, /^cpu=\d+\.\d% iowait=\d+\.\d% steal=\d+\.\d% mem=\d+\.\d% \(\d+\/\d+ MiB\)/);
  const inv = await s.inventory();
  assert.ok(inv.cpu_model.length > 0 && inv.kernel.length > 0 && inv.cores >= 1);
});
