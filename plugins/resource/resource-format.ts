/**
 * The human-readable `log` line of a sample, e.g.
 *   2026-12-05T08:00:15.002Z cpu=12.5% mem=35.2% (361/1024 MiB) load=0.42 cgroup=23.4% (120/512 MiB) | nginx cpu=1.2% rss=45.1MiB n=2
 * so that an output writing plain lines (body.log) gives something to read with tail -F.
 */
import { isoUtcSeconds } from '../../core/index.js';
import type { ResourceSample } from './resource-sampler.js';

export const TIME_FORMATS = ['iso8601', 'iso8601_local', 'epoch', 'epoch_ms', 'none'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** The sample time as the line starts with it (with a trailing space), '' for `none`. */
export function formatTime(ms: number, format: TimeFormat): string {
  switch (format) {
    case 'iso8601': {
      // What Date's toISOString() gives, without its cost (see isoUtcSeconds).
      const sec = Math.floor(ms / 1000);
      return `${isoUtcSeconds(sec)}.${String(Math.floor(ms - sec * 1000)).padStart(3, '0')}Z `;
    }
    case 'iso8601_local': {
      const d = new Date(ms);
      const off = -d.getTimezoneOffset();
      const zone = `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${zone} `;
    }
    case 'epoch':
      return `${(ms / 1000).toFixed(3)} `;
    case 'epoch_ms':
      return `${ms} `;
    case 'none':
      return '';
  }
}

export const LOG_FIELDS = ['cpu', 'iowait', 'steal', 'mem', 'swap', 'load', 'cgroup', 'processes'] as const;
export type LogField = (typeof LOG_FIELDS)[number];

const MiB = 1024 * 1024;
const pct = (x: number): string => `${x.toFixed(1)}%`;
const mib = (b: number): string => String(Math.round(b / MiB));
const mibFrac = (b: number): string => (b / MiB).toFixed(1);

export function formatLine(s: ResourceSample, fields: readonly LogField[]): string {
  const out: string[] = [];
  const procs: string[] = [];
  for (const f of fields) {
    switch (f) {
      case 'cpu':
        out.push(`cpu=${pct(s.cpu.pct)}`);
        break;
      case 'iowait':
        out.push(`iowait=${pct(s.cpu.iowait_pct)}`);
        break;
      case 'steal':
        out.push(`steal=${pct(s.cpu.steal_pct)}`);
        break;
      case 'mem':
        out.push(`mem=${pct(s.mem.pct)} (${mib(s.mem.used)}/${mib(s.mem.total)} MiB)`);
        break;
      case 'swap':
        if (s.mem.swap_total > 0) out.push(`swap=${mib(s.mem.swap_used)}/${mib(s.mem.swap_total)} MiB`);
        break;
      case 'load':
        out.push(`load=${s.load.avg1.toFixed(2)}`);
        break;
      case 'cgroup': {
        const cg = s.cgroup;
        if (!cg) break;
        out.push(
          cg.limit === null ? `cgroup=${mib(cg.working_set)} MiB (no limit)` : `cgroup=${pct(cg.pct ?? 0)} (${mib(cg.working_set)}/${mib(cg.limit)} MiB)`,
        );
        break;
      }
      case 'processes':
        for (const p of s.processes ?? []) {
          if (p.pids.length === 0) procs.push(`${p.name} not running`);
          else {
            const cpu = p.cpu_pct === null ? '-' : pct(p.cpu_pct);
            procs.push(`${p.name} cpu=${cpu} rss=${mibFrac(p.rss)}MiB${p.pids.length > 1 ? ` n=${p.pids.length}` : ''}`);
          }
        }
        break;
    }
  }
  let line = out.join(' ');
  for (const p of procs) line += line ? ` | ${p}` : p;
  return line;
}
