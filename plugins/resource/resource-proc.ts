/**
 * Per-process CPU % and RSS from /proc/<pid>/stat (async reads, no `ps`).
 *
 * A process is given as a pid, `self` (the agent) or a name. Names are matched against
 * /proc/<pid>/comm, which the kernel truncates to 15 bytes, so a longer name matches on its first
 * 15 bytes. Resolving names means reading every /proc/<pid>/comm, so it happens at most every
 * `scanEvery` samples; in between, the known pids are re-read and their comm (which /proc/<pid>/stat
 * carries anyway) is checked, so a recycled pid is never reported under the wrong name.
 * A name can match several processes (workers): their CPU and RSS are summed.
 */
import { open, readdir, readFile } from 'node:fs/promises';

export type ProcessSpec = number | string;

export interface ProcessUsage {
  /** The spec as configured: a name, `self`, or the pid as a string. */
  name: string;
  /** Live pids matched this sample (empty when the process is not running). */
  pids: number[];
  /** CPU % of one core (top style: 200 = two cores busy), summed over pids; null before a baseline exists. */
  cpu_pct: number | null;
  /** Resident set size in bytes, summed over pids. */
  rss: number;
}

export interface ProcStat {
  comm: string;
  /** utime + stime, in USER_HZ ticks. */
  ticks: number;
  /** Start time since boot (ticks): tells a recycled pid from the process we knew. */
  start: string;
  /** Resident pages. */
  rssPages: number;
}

/** Parse /proc/<pid>/stat. comm may hold spaces and parentheses: fields count from the last ')'. */
export function parsePidStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): utime is field 14, stime 15, starttime 22, rss 24.
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  const rss = Number(f[21]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || f[19] === undefined) return undefined;
  return { comm: text.slice(open + 1, close), ticks: utime + stime, start: f[19], rssPages: Number.isFinite(rss) ? rss : 0 };
}

/** comm as the kernel stores it: at most 15 bytes. */
export function commOf(name: string): string {
  const b = Buffer.from(name);
  return b.length <= 15 ? name : b.subarray(0, 15).toString();
}

/** Page size from the first mapping of /proc/self/smaps (no sysconf without a fork); 4096 if unknown. */
export async function readPageSize(procRoot = '/proc'): Promise<number> {
  try {
    const fh = await open(`${procRoot}/self/smaps`, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const m = /KernelPageSize:\s+(\d+) kB/.exec(buf.toString('latin1', 0, bytesRead));
      if (m) return Number(m[1]) * 1024;
    } finally {
      await fh.close();
    }
  } catch {
    // fall through
  }
  return 4096;
}

async function readStat(procRoot: string, pid: number): Promise<ProcStat | undefined> {
  try {
    return parsePidStat(await readFile(`${procRoot}/${pid}/stat`, 'latin1'));
  } catch {
    return undefined; // gone (ENOENT/ESRCH) or not ours to read
  }
}

const SCAN_BATCH = 64;

/** Map comm -> pids for the wanted comms, by reading /proc/<pid>/comm of every process. */
export async function scanComms(procRoot: string, wanted: ReadonlySet<string>): Promise<Map<string, number[]>> {
  const found = new Map<string, number[]>();
  let names: string[];
  try {
    names = await readdir(procRoot);
  } catch {
    return found;
  }
  const pids = names.filter((n) => n.charCodeAt(0) >= 48 && n.charCodeAt(0) <= 57 && /^\d+$/.test(n));
  for (let i = 0; i < pids.length; i += SCAN_BATCH) {
    const batch = pids.slice(i, i + SCAN_BATCH);
    const comms = await Promise.all(
      batch.map((p) =>
        readFile(`${procRoot}/${p}/comm`, 'utf8').then(
          (s) => (s.endsWith('\n') ? s.slice(0, -1) : s),
          () => undefined,
        ),
      ),
    );
    for (let j = 0; j < batch.length; j++) {
      const c = comms[j];
      if (c === undefined || !wanted.has(c)) continue;
      let list = found.get(c);
      if (!list) found.set(c, (list = []));
      list.push(Number(batch[j]));
    }
  }
  for (const list of found.values()) list.sort((a, b) => a - b);
  return found;
}

interface Target {
  label: string;
  /** Fixed pid (pid or self), or undefined for a name. */
  pid?: number;
  /** Truncated comm for names. */
  comm?: string;
}

export interface ProcessTrackerOptions {
  procRoot?: string;
  /** Resolve names every N samples (>= 1). */
  scanEvery?: number;
  pageSize?: number;
  /** Pid that `self` stands for (default process.pid). */
  selfPid?: number;
}

export class ProcessTracker {
  readonly #procRoot: string;
  readonly #scanEvery: number;
  readonly #pageSize: number;
  readonly #targets: Target[];
  readonly #wanted: Set<string>;
  #resolved = new Map<string, number[]>();
  #sinceScan = Infinity;
  #prev = new Map<number, ProcStat>();
  /** Name scans done so far (for tests and counters). */
  scans = 0;

  constructor(specs: readonly ProcessSpec[], opts: ProcessTrackerOptions = {}) {
    this.#procRoot = opts.procRoot ?? '/proc';
    this.#scanEvery = Math.max(1, Math.floor(opts.scanEvery ?? 4));
    this.#pageSize = opts.pageSize ?? 4096;
    const self = opts.selfPid ?? process.pid;
    this.#targets = specs.map((s): Target => {
      if (typeof s === 'number') return { label: String(s), pid: s };
      if (/^\d+$/.test(s)) return { label: s, pid: Number(s) };
      if (s === 'self') return { label: s, pid: self };
      return { label: s, comm: commOf(s) };
    });
    this.#wanted = new Set(this.#targets.flatMap((t) => (t.comm === undefined ? [] : [t.comm])));
  }

  get size(): number {
    return this.#targets.length;
  }

  /**
   * One sample. `ticksPerCpu` is the time one CPU lived through since the previous sample, in
   * USER_HZ ticks (see ticksPerCpu in resource-cpu.ts); 0 means no previous sample.
   */
  async sample(ticksPerCpu: number): Promise<ProcessUsage[]> {
    if (this.#wanted.size > 0 && ++this.#sinceScan >= this.#scanEvery) {
      this.#resolved = await scanComms(this.#procRoot, this.#wanted);
      this.#sinceScan = 0;
      this.scans++;
    }
    const pidsOf = this.#targets.map((t) => (t.pid !== undefined ? [t.pid] : (this.#resolved.get(t.comm!) ?? [])));
    const unique = [...new Set(pidsOf.flat())];
    const stats = await Promise.all(unique.map((p) => readStat(this.#procRoot, p)));
    const cur = new Map<number, ProcStat>();
    for (let i = 0; i < unique.length; i++) if (stats[i]) cur.set(unique[i]!, stats[i]!);

    const out = this.#targets.map((t, i): ProcessUsage => {
      const pids: number[] = [];
      let rss = 0;
      let cpu = 0;
      let known = false;
      for (const pid of pidsOf[i]!) {
        const st = cur.get(pid);
        if (!st || (t.comm !== undefined && st.comm !== t.comm)) continue; // exited, or pid recycled
        pids.push(pid);
        rss += st.rssPages * this.#pageSize;
        const before = this.#prev.get(pid);
        if (before && before.start === st.start && ticksPerCpu > 0) {
          cpu += (Math.max(0, st.ticks - before.ticks) / ticksPerCpu) * 100;
          known = true;
        }
      }
      return { name: t.label, pids, cpu_pct: known ? Math.round(cpu * 100) / 100 : null, rss };
    });
    this.#prev = cur;
    return out;
  }
}
