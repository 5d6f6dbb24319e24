/**
 * System CPU usage from /proc/stat deltas (one async read, no fork).
 *
 * The first line is `cpu user nice system idle iowait irq softirq steal guest guest_nice`, in
 * USER_HZ ticks since boot summed over all CPUs. guest/guest_nice are already included in
 * user/nice, so they are not added again. iowait is idle time (a CPU waiting for I/O could run
 * something else), so it counts in the total but not as busy; steal is time the hypervisor gave
 * to someone else while we wanted to run, so it counts as busy (it is load we could not serve).
 */
import { readFile } from 'node:fs/promises';

export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  /** Online CPUs (number of `cpuN` lines). */
  cores: number;
}

export interface CpuUsage {
  /** Busy share of all CPUs over the interval, 0-100 (user+nice+system+irq+softirq+steal). */
  pct: number;
  user_pct: number;
  system_pct: number;
  iowait_pct: number;
  steal_pct: number;
  idle_pct: number;
  cores: number;
}

const FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** Parse the text of /proc/stat. Throws if there is no aggregate `cpu` line. */
export function parseProcStat(text: string): CpuTimes {
  if (!text.startsWith('cpu ')) throw new Error('unexpected /proc/stat format: first line is not "cpu ..."');
  const eol = text.indexOf('\n');
  const cols = text
    .slice(4, eol < 0 ? undefined : eol)
    .trim()
    .split(/\s+/);
  const t: CpuTimes = { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, cores: 0 };
  for (let i = 0; i < FIELDS.length; i++) {
    const v = Number(cols[i]);
    t[FIELDS[i]!] = Number.isFinite(v) ? v : 0;
  }
  let cores = 0;
  for (let p = text.indexOf('\ncpu'); p >= 0; p = text.indexOf('\ncpu', p + 4)) {
    const c = text.charCodeAt(p + 4);
    if (c >= 48 && c <= 57) cores++;
  }
  t.cores = Math.max(1, cores);
  return t;
}

export async function readCpuTimes(procRoot = '/proc'): Promise<CpuTimes> {
  return parseProcStat(await readFile(`${procRoot}/stat`, 'latin1'));
}

/** All ticks (the wall time of every CPU) in a snapshot. */
export function totalTicks(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * Usage between two snapshots. Counters that went backwards (iowait is known to on idle CPUs,
 * and CPU hot-unplug can do it) count as zero for that interval.
 */
export function cpuUsage(prev: CpuTimes, cur: CpuTimes): CpuUsage {
  const d = (k: (typeof FIELDS)[number]): number => Math.max(0, cur[k] - prev[k]);
  const user = d('user') + d('nice');
  const system = d('system') + d('irq') + d('softirq');
  const steal = d('steal');
  const idle = d('idle');
  const iowait = d('iowait');
  const total = user + system + steal + idle + iowait;
  if (total <= 0) return { pct: 0, user_pct: 0, system_pct: 0, iowait_pct: 0, steal_pct: 0, idle_pct: 100, cores: cur.cores };
  const pc = (x: number): number => round2((x / total) * 100);
  return {
    pct: pc(user + system + steal),
    user_pct: pc(user),
    system_pct: pc(system),
    iowait_pct: pc(iowait),
    steal_pct: pc(steal),
    idle_pct: pc(idle),
    cores: cur.cores,
  };
}

/**
 * Ticks one CPU lived through between two snapshots (the denominator of a process's CPU %,
 * in the same USER_HZ unit as /proc/<pid>/stat, so CLK_TCK is never needed).
 */
export function ticksPerCpu(prev: CpuTimes, cur: CpuTimes): number {
  return Math.max(0, totalTicks(cur) - totalTicks(prev)) / Math.max(1, cur.cores);
}
