/**
 * One resource sample = CPU (since the previous sample) + memory + load + cgroup + processes.
 * Every read is an async fs read of /proc or /sys (or systeminformation's mem(), which is one);
 * nothing forks and nothing blocks the event loop.
 */
import { readFile } from 'node:fs/promises';
import { cpus, hostname, loadavg, release } from 'node:os';
import { cpuUsage, readCpuTimes, ticksPerCpu, type CpuTimes, type CpuUsage } from './resource-cpu.js';
import { memUsage, type MemSource, type MemUsage } from './resource-mem.js';
import { detectCgroup, type CgroupMemory, type CgroupReader } from './resource-cgroup.js';
import { ProcessTracker, readPageSize, type ProcessSpec, type ProcessUsage } from './resource-proc.js';

export interface LoadAvg {
  avg1: number;
  avg5: number;
  avg15: number;
  /** Runnable tasks at the time of the sample (4th field of /proc/loadavg). */
  running?: number;
  /** Tasks (threads) in the system. */
  tasks?: number;
}

export interface ResourceSample {
  /** Milliseconds the CPU figures cover (time since the previous sample). */
  interval_ms: number;
  cpu: CpuUsage;
  mem: MemUsage;
  load: LoadAvg;
  /** Present when cgroup sampling is on and the machine has a memory cgroup. */
  cgroup?: CgroupMemory;
  /** Present when processes are configured, in the configured order. */
  processes?: ProcessUsage[];
}

/** Machine facts that do not change; sent once, in the first sample after start. */
export interface Inventory {
  hostname: string;
  kernel: string;
  cpu_model: string;
  cores: number;
  mem_total: number;
}

export function parseLoadavg(text: string): LoadAvg | undefined {
  const f = text.trim().split(/\s+/);
  const [a, b, c] = [Number(f[0]), Number(f[1]), Number(f[2])];
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) return undefined;
  const load: LoadAvg = { avg1: a, avg5: b, avg15: c };
  const rt = f[3]?.split('/');
  if (rt?.length === 2 && Number.isFinite(Number(rt[0])) && Number.isFinite(Number(rt[1]))) {
    load.running = Number(rt[0]);
    load.tasks = Number(rt[1]);
  }
  return load;
}

async function readLoad(procRoot: string): Promise<LoadAvg> {
  try {
    const l = parseLoadavg(await readFile(`${procRoot}/loadavg`, 'latin1'));
    if (l) return l;
  } catch {
    // fall back below
  }
  const [avg1, avg5, avg15] = loadavg() as [number, number, number];
  return { avg1, avg5, avg15 };
}

export interface SamplerOptions {
  memSource: MemSource;
  cgroup: boolean;
  processes: readonly ProcessSpec[];
  /** Resolve process names every N samples. */
  scanEvery: number;
  procRoot?: string;
  cgroupRoot?: string;
  /** Monotonic clock in ms (tests). */
  now?: () => number;
}

export class ResourceSampler {
  readonly #o: SamplerOptions;
  readonly #procRoot: string;
  readonly #now: () => number;
  #cg: CgroupReader | undefined;
  #tracker: ProcessTracker | undefined;
  #prevCpu: CpuTimes | undefined;
  #prevAt = 0;

  constructor(o: SamplerOptions) {
    this.#o = o;
    this.#procRoot = o.procRoot ?? '/proc';
    this.#now = o.now ?? (() => performance.now());
  }

  /** The cgroup reader in use (after init), for logging. */
  get cgroup(): CgroupReader | undefined {
    return this.#cg;
  }

  /** Find the cgroup and take the baseline, so that the first sample already has CPU deltas. */
  async init(): Promise<void> {
    if (this.#o.cgroup) this.#cg = await detectCgroup(this.#procRoot, this.#o.cgroupRoot);
    if (this.#o.processes.length > 0) {
      this.#tracker = new ProcessTracker(this.#o.processes, {
        procRoot: this.#procRoot,
        scanEvery: this.#o.scanEvery,
        pageSize: await readPageSize(this.#procRoot),
      });
      await this.#tracker.sample(0);
    }
    this.#prevCpu = await readCpuTimes(this.#procRoot);
    this.#prevAt = this.#now();
  }

  /** Name scans done by the process tracker so far. */
  get scans(): number {
    return this.#tracker?.scans ?? 0;
  }

  /** Static facts (os.cpus() reads /proc/cpuinfo synchronously: call once, at start, not per sample). */
  async inventory(host = hostname()): Promise<Inventory> {
    const c = cpus();
    const mem = memUsage(await this.#o.memSource());
    return {
      hostname: host,
      kernel: release(),
      cpu_model: c[0]?.model.trim() ?? '',
      cores: this.#prevCpu?.cores ?? c.length,
      mem_total: mem.total,
    };
  }

  async sample(): Promise<ResourceSample> {
    const [cur, memRaw, load, cg] = await Promise.all([
      readCpuTimes(this.#procRoot),
      this.#o.memSource(),
      readLoad(this.#procRoot),
      this.#cg?.read().catch(() => undefined),
    ]);
    const at = this.#now();
    const prev = this.#prevCpu ?? cur;
    const processes = this.#tracker ? await this.#tracker.sample(ticksPerCpu(prev, cur)) : undefined;
    const s: ResourceSample = {
      interval_ms: Math.round(this.#prevCpu ? at - this.#prevAt : 0),
      cpu: cpuUsage(prev, cur),
      mem: memUsage(memRaw),
      load,
    };
    this.#prevCpu = cur;
    this.#prevAt = at;
    if (cg) s.cgroup = cg;
    if (processes) s.processes = processes;
    return s;
  }
}
