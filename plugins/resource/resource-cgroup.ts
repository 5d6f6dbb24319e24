/**
 * Memory limit and usage of the agent's own cgroup (v2 memory.max/memory.current, v1
 * memory.limit_in_bytes/memory.usage_in_bytes). systeminformation does not read cgroups.
 *
 * The cgroup is found once, from /proc/self/cgroup; the files are then read asynchronously on
 * each sample. Inside a cgroup namespace (containers) /proc/self/cgroup says "/" and the mount
 * is the cgroup itself; without one the path is appended to the mount point. If that directory
 * is not visible, the mount root is used.
 */
import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface CgroupMemory {
  version: 1 | 2;
  /** Effective limit in bytes (lowest of this cgroup and its visible ancestors); null when unlimited. */
  limit: number | null;
  /** Bytes charged to the cgroup (includes page cache). */
  usage: number;
  /** usage - inactive_file: what the OOM killer and kubelet look at. */
  working_set: number;
  /** working_set / limit, 0-100; null when unlimited. */
  pct: number | null;
}

/** Limits at or above 2^62 mean "no limit" (v1 writes PAGE_COUNTER_MAX * page size). */
const UNLIMITED = 2 ** 62;

function parseLimit(s: string): number | null {
  const t = s.trim();
  if (t === 'max' || t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) && n < UNLIMITED ? n : null;
}

/** One `key value` line of memory.stat, or undefined. */
export function statValue(stat: string, key: string): number | undefined {
  let at = 0;
  if (!stat.startsWith(`${key} `)) {
    const i = stat.indexOf(`\n${key} `);
    if (i < 0) return undefined;
    at = i + 1;
  }
  const end = stat.indexOf('\n', at);
  const v = Number(stat.slice(at + key.length + 1, end < 0 ? undefined : end));
  return Number.isFinite(v) ? v : undefined;
}

function minLimit(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

const readText = (p: string): Promise<string> => readFile(p, 'latin1');

export interface CgroupReader {
  readonly version: 1 | 2;
  /** Directory holding the memory files. */
  readonly dir: string;
  read(): Promise<CgroupMemory>;
}

function memoryOf(version: 1 | 2, limit: number | null, usage: number, inactive: number): CgroupMemory {
  const working = Math.max(0, usage - inactive);
  return { version, limit, usage, working_set: working, pct: limit ? Math.round((working / limit) * 10000) / 100 : null };
}

class V2Reader implements CgroupReader {
  readonly version = 2 as const;
  constructor(
    readonly dir: string,
    private readonly ancestorLimit: number | null,
  ) {}
  async read(): Promise<CgroupMemory> {
    const [max, cur, stat] = await Promise.all([
      readText(join(this.dir, 'memory.max')).catch(() => 'max'),
      readText(join(this.dir, 'memory.current')),
      readText(join(this.dir, 'memory.stat')).catch(() => ''),
    ]);
    const limit = minLimit(parseLimit(max), this.ancestorLimit);
    return memoryOf(2, limit, Number(cur.trim()) || 0, statValue(stat, 'inactive_file') ?? 0);
  }
}

class V1Reader implements CgroupReader {
  readonly version = 1 as const;
  constructor(readonly dir: string) {}
  async read(): Promise<CgroupMemory> {
    const [lim, use, stat] = await Promise.all([
      readText(join(this.dir, 'memory.limit_in_bytes')),
      readText(join(this.dir, 'memory.usage_in_bytes')),
      readText(join(this.dir, 'memory.stat')).catch(() => ''),
    ]);
    const hier = statValue(stat, 'hierarchical_memory_limit');
    const limit = minLimit(parseLimit(lim), hier === undefined ? null : parseLimit(String(hier)));
    const inactive = statValue(stat, 'total_inactive_file') ?? statValue(stat, 'inactive_file') ?? 0;
    return memoryOf(1, limit, Number(use.trim()) || 0, inactive);
  }
}

/** Lowest memory.max among the visible ancestors of dir (v2), up to and including root. */
async function ancestorsLimit(root: string, dir: string): Promise<number | null> {
  let limit: number | null = null;
  for (let d = dir; d.startsWith(`${root}/`); ) {
    d = dirname(d);
    limit = minLimit(limit, parseLimit(await readText(join(d, 'memory.max')).catch(() => 'max')));
  }
  return limit;
}

const trimSlash = (p: string): string => (p.length > 1 && p.endsWith('/') ? p.replace(/\/+$/, '') : p);

/** The cgroup's memory reader, or undefined when the machine has no memory cgroup we can read. */
export async function detectCgroup(procRoot = '/proc', cgroupRootIn = '/sys/fs/cgroup'): Promise<CgroupReader | undefined> {
  const cgroupRoot = trimSlash(cgroupRootIn);
  let self: string;
  try {
    self = await readText(join(procRoot, 'self/cgroup'));
  } catch {
    return undefined;
  }
  let v2Path: string | undefined;
  let v1Path: string | undefined;
  for (const line of self.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const controllers = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (line.slice(0, a) === '0' && controllers === '') v2Path = path;
    else if (controllers.split(',').includes('memory')) v1Path = path;
  }
  if (v2Path !== undefined) {
    for (const dir of [trimSlash(join(cgroupRoot, v2Path)), cgroupRoot]) {
      if (await exists(join(dir, 'memory.current'))) return new V2Reader(dir, await ancestorsLimit(cgroupRoot, dir));
    }
  }
  if (v1Path !== undefined) {
    const mount = join(cgroupRoot, 'memory');
    for (const dir of [trimSlash(join(mount, v1Path)), mount]) {
      if (await exists(join(dir, 'memory.usage_in_bytes'))) return new V1Reader(dir);
    }
  }
  return undefined;
}
