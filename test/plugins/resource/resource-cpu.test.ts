import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuUsage, parseProcStat, readCpuTimes, ticksPerCpu, totalTicks } from '../../../plugins/resource/resource-cpu.js';

const STAT = (user: number, nice: number, system: number, idle: number, iowait: number, irq: number, softirq: number, steal: number) =>
  `cpu  ${user} ${nice} ${system} ${idle} ${iowait} ${irq} ${softirq} ${steal} 7 0\n` +
  `cpu0 1 0 1 1 0 0 0 0 0 0\ncpu1 1 0 1 1 0 0 0 0 0 0\nintr 12345 0\nctxt 99\ncpu_not_a_core 1\n`;

test('parses the aggregate line and counts cores', () => {
  const t = parseProcStat(STAT(100, 5, 50, 1000, 20, 3, 7, 15));
  assert.deepEqual(t, { user: 100, nice: 5, system: 50, idle: 1000, iowait: 20, irq: 3, softirq: 7, steal: 15, cores: 2 });
  assert.equal(totalTicks(t), 1200);
});

test('old kernels with fewer columns parse as zero', () => {
  const t = parseProcStat('cpu  10 0 10 80\ncpu0 10 0 10 80\n');
  assert.equal(t.iowait, 0);
  assert.equal(t.steal, 0);
  assert.equal(t.cores, 1);
});

test('rejects a file that is not /proc/stat', () => {
  assert.throws(() => parseProcStat('hello'), /unexpected \/proc\/stat/);
});

test('iowait is in the total but not busy; steal is busy', () => {
  const a = parseProcStat(STAT(0, 0, 0, 0, 0, 0, 0, 0));
  // over the interval: user 20, nice 5, system 10, irq 2, softirq 3, steal 10, idle 30, iowait 20 => total 100
  const b = parseProcStat(STAT(20, 5, 10, 30, 20, 2, 3, 10));
  const u = cpuUsage(a, b);
  assert.equal(u.pct, 50); // 20+5+10+2+3+10
  assert.equal(u.user_pct, 25);
  assert.equal(u.system_pct, 15);
  assert.equal(u.steal_pct, 10);
  assert.equal(u.iowait_pct, 20);
  assert.equal(u.idle_pct, 30);
  assert.equal(u.cores, 2);
  assert.equal(ticksPerCpu(a, b), 50);
});

test('guest time is not counted twice', () => {
  const a = parseProcStat('cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 0\n');
  const b = parseProcStat('cpu  50 0 0 50 0 0 0 0 50 0\ncpu0 0\n');
  assert.equal(cpuUsage(a, b).pct, 50);
});

test('counters going backwards (iowait on idle CPUs) do not produce negative or >100 values', () => {
  const a = parseProcStat(STAT(10, 0, 10, 100, 50, 0, 0, 0));
  const b = parseProcStat(STAT(20, 0, 20, 180, 40, 0, 0, 0));
  const u = cpuUsage(a, b);
  assert.equal(u.iowait_pct, 0);
  assert.equal(u.pct, 20);
  assert.ok(u.pct + u.idle_pct <= 100.01);
});

test('no elapsed ticks: 0% busy', () => {
  const a = parseProcStat(STAT(10, 0, 10, 100, 5, 0, 0, 0));
  assert.equal(cpuUsage(a, a).pct, 0);
  assert.equal(cpuUsage(a, a).idle_pct, 100);
});

test('real /proc/stat: plausible values after burning CPU', async () => {
  const a = await readCpuTimes();
  const end = Date.now() + 150;
  while (Date.now() < end); // keep one core busy
  const b = await readCpuTimes();
  const u = cpuUsage(a, b);
  assert.ok(b.cores >= 1);
  for (const k of ['pct', 'user_pct', 'system_pct', 'iowait_pct', 'steal_pct', 'idle_pct'] as const) {
    assert.ok(u[k] >= 0 && u[k] <= 100, `${k}=${u[k]}`);
  }
  // one busy core out of N: at least a fraction of 100/N (generous: the machine may be shared)
  assert.ok(u.pct > 100 / b.cores / 4, `cpu ${u.pct}% on ${b.cores} cores`);
});
