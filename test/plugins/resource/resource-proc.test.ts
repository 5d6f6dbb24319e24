import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { commOf, parsePidStat, ProcessTracker, readPageSize } from '../../../plugins/resource/resource-proc.js';
import { cpuUsage, readCpuTimes, ticksPerCpu } from '../../../plugins/resource/resource-cpu.js';
import { FakeRoot } from './fixture.js';

test('parsePidStat: comm with spaces and parentheses', () => {
  const s = parsePidStat('4242 (my (odd) name) R 1 4242 4242 0 -1 4194304 98 0 0 0 17 5 0 0 20 0 1 0 37132 3133440 411 18446744073709551615 0\n');
  assert.deepEqual(s, { comm: 'my (odd) name', ticks: 22, start: '37132', rssPages: 411 });
  assert.equal(parsePidStat('garbage'), undefined);
  assert.equal(parsePidStat('1 (x) S 1'), undefined);
});

test('commOf truncates to 15 bytes like the kernel', () => {
  assert.equal(commOf('nginx'), 'nginx');
  assert.equal(commOf('a-very-long-process-name'), 'a-very-long-pro');
});

test('tracker: names, pids, sums, CPU from tick deltas, scans at most every N samples', async (t) => {
  const root = new FakeRoot();
  t.after(() => root.cleanup());
  root.proc(100, 'nginx', 1000, 100);
  root.proc(101, 'nginx', 500, 50);
  root.proc(200, 'redis-server', 0, 10);
  root.proc(300, 'a-very-long-process-name-x', 10, 1);
  root.write('self/stat', 'x'); // readdir sees non-numeric entries too
  const tr = new ProcessTracker(['nginx', 200, 'a-very-long-process-name-x', 'missing', '300'], { procRoot: root.path(), scanEvery: 3, pageSize: 4096 });
  const s0 = await tr.sample(0);
  assert.equal(tr.scans, 1);
  assert.deepEqual(s0[0], { name: 'nginx', pids: [100, 101], cpu_pct: null, rss: 150 * 4096 });
  assert.deepEqual(s0[1], { name: '200', pids: [200], cpu_pct: null, rss: 10 * 4096 });
  assert.deepEqual(s0[2]!.pids, [300]);
  assert.deepEqual(s0[3], { name: 'missing', pids: [], cpu_pct: null, rss: 0 });
  assert.deepEqual(s0[4]!.pids, [300]);

  // 100 ticks per CPU elapse; nginx workers used 30 + 20 ticks, redis 100 ticks
  root.proc(100, 'nginx', 1030, 100);
  root.proc(101, 'nginx', 520, 60);
  root.proc(200, 'redis-server', 100, 10);
  root.proc(102, 'nginx', 0, 1); // new worker: not seen before the next scan
  const s1 = await tr.sample(100);
  assert.equal(tr.scans, 1);
  assert.equal(s1[0]!.cpu_pct, 50);
  assert.deepEqual(s1[0]!.pids, [100, 101]);
  assert.equal(s1[0]!.rss, 160 * 4096);
  assert.equal(s1[1]!.cpu_pct, 100);
  assert.equal(s1[2]!.cpu_pct, 0);

  // pid 101 recycled by another program, pid 200 restarted (new start time), pid 300 exited
  root.proc(101, 'bash', 9999, 5);
  root.proc(200, 'redis-server', 5, 10, 2000);
  root.rm('300');
  const s2 = await tr.sample(100);
  assert.equal(tr.scans, 1);
  assert.deepEqual(s2[0]!.pids, [100]);
  assert.equal(s2[1]!.cpu_pct, null);
  assert.deepEqual(s2[2]!.pids, []);

  const s3 = await tr.sample(100); // third sample since the scan: rescan finds 102
  assert.equal(tr.scans, 2);
  assert.deepEqual(s3[0]!.pids, [100, 102]);
  for (let i = 0; i < 6; i++) await tr.sample(100);
  assert.equal(tr.scans, 4, 'one scan per 3 samples');
});

test('tracker without names never scans /proc', async () => {
  const tr = new ProcessTracker([process.pid, 'self'], { scanEvery: 1 });
  await tr.sample(0);
  await tr.sample(0);
  assert.equal(tr.scans, 0);
});

test('page size from /proc/self/smaps', async () => {
  const ps = await readPageSize();
  assert.ok([4096, 16384, 65536].includes(ps), String(ps));
  assert.equal(await readPageSize('/nonexistent'), 4096);
});

test('real processes: self CPU while busy, RSS close to process.memoryUsage, a child found by name', async (t) => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => child.kill());
  await new Promise((r) => child.once('spawn', r));
  const tr = new ProcessTracker(['self', 'sleep'], { scanEvery: 1, pageSize: await readPageSize() });
  const c0 = await readCpuTimes();
  await tr.sample(0);
  const end = Date.now() + 300;
  while (Date.now() < end);
  const c1 = await readCpuTimes();
  const [self, sleep] = await tr.sample(ticksPerCpu(c0, c1));
  // busy for 300 ms: well above idle even when other tests share the CPUs
  assert.ok(self!.cpu_pct !== null && self!.cpu_pct > 10 && self!.cpu_pct < 250, `self cpu ${self!.cpu_pct}`);
  const rss = process.memoryUsage().rss;
  assert.ok(Math.abs(self!.rss - rss) / rss < 0.2, `rss ${self!.rss} vs ${rss}`);
  assert.ok(sleep!.pids.includes(child.pid!), `sleep pids ${sleep!.pids}`);
  assert.equal(sleep!.cpu_pct, 0);
  assert.ok(cpuUsage(c0, c1).pct > 0);
});
