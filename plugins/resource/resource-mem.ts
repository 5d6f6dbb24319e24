/**
 * System memory from systeminformation's mem(), which on Linux reads /proc/meminfo with an
 * async fs.readFile (no fork). Its own `used` counts page cache as used, which makes every
 * healthy machine look full; we report used = total - MemAvailable (si's `active`) instead,
 * the figure `free` shows as "used" and the kernel's own estimate of what cannot be reclaimed.
 */
import type { Systeminformation } from 'systeminformation';

export interface MemUsage {
  /** Bytes. */
  total: number;
  /** MemAvailable: what can be given to new work without swapping, in bytes. */
  available: number;
  /** total - available, in bytes. */
  used: number;
  /** used / total, 0-100. */
  pct: number;
  swap_total: number;
  swap_used: number;
}

export type MemSource = () => Promise<Systeminformation.MemData>;

export function memUsage(m: Systeminformation.MemData): MemUsage {
  // biome-ignore lint/complexity/useMathMinMax: Math.max(NaN, 0) is NaN; an unreadable total must give 0
  const total = m.total > 0 ? m.total : 0;
  const available = Math.min(total, Math.max(0, m.available));
  const used = total - available;
  return {
    total,
    available,
    used,
    pct: total > 0 ? Math.round((used / total) * 10000) / 100 : 0,
    swap_total: Math.max(0, m.swaptotal),
    swap_used: Math.max(0, m.swapused),
  };
}

let siMem: MemSource | undefined;

/**
 * systeminformation's memory module, loaded on first use (agents without resource skip it). Only
 * that module: the package's index loads all its 25 modules (~750 KB of source), which cost an
 * idle agent ~3.5 MiB of RSS and ~40 ms for one function.
 */
export async function loadMemSource(): Promise<MemSource> {
  if (!siMem) {
    // A literal specifier: the CLI bundle (scripts/bundle-cli.mjs) carries the module in a chunk of
    // its own (whitespace minified, ASCII: ~60 KB of source held instead of ~165 KB), loaded here.
    // Its module.exports is the default export, bundled or not.
    // @ts-expect-error systeminformation declares no types for its lib/ files
    const { default: si } = (await import('systeminformation/lib/memory.js')) as { default: { mem: () => Promise<Systeminformation.MemData> } };
    siMem = () => si.mem();
  }
  return siMem;
}
