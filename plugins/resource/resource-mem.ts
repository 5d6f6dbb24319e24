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

/** systeminformation is loaded on first use (it costs ~30 ms to import; agents without resource skip it). */
export async function loadMemSource(): Promise<MemSource> {
  if (!siMem) {
    const si = await import('systeminformation');
    siMem = () => si.mem();
  }
  return siMem;
}
