/**
 * A service logging at a steady rate, and the lines' arrival in the parent's file: each line
 * carries its append time (`t=<epoch ms> seq=<n> ...`), so the reader gets its latency.
 */
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';

/** Wall clock in ms with sub-ms resolution (the writer and the reader share it). */
const origin = Date.now() - performance.now();
const now = () => origin + performance.now();

/** Append `total` lines to `log` at `rate` lines/s (written on a 1 ms timer, catching up when late). */
export function rateWriter(log: string, rate: number, total: number): { written: () => number; done: Promise<void> } {
  const fd = openSync(log, 'a');
  const pad = 'y'.repeat(80);
  let written = 0;
  const t0 = performance.now();
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    let s = '';
    for (; written < due; written++) s += `t=${now().toFixed(3)} seq=${written} ${pad}\n`;
    if (s) writeFileSync(fd, s);
    if (written < total) return;
    clearInterval(timer);
    closeSync(fd);
    finish();
  }, 1);
  return { written: () => written, done };
}

export interface Arrivals {
  /** Read what arrived since the last call: `lines` written by rateWriter so far (their `latencies` in ms), `other` lines. */
  poll(): { lines: number; other: number; latencies: number[] };
}

/** Follow the parent's output file `out` (it may not exist yet). */
export function followArrivals(out: string): Arrivals {
  const buf = Buffer.alloc(1 << 20);
  const latencies: number[] = [];
  let pos = 0;
  let rest = '';
  let other = 0;
  return {
    poll() {
      let fd: number;
      try {
        fd = openSync(out, 'r');
      } catch {
        return { lines: latencies.length, other, latencies };
      }
      try {
        while (fstatSync(fd).size > pos) {
          const n = readSync(fd, buf, 0, buf.length, pos);
          if (n <= 0) break;
          pos += n;
          const at = now();
          const lines = (rest + buf.toString('utf8', 0, n)).split('\n');
          rest = lines.pop()!;
          for (const l of lines) {
            if (l.startsWith('t=')) latencies.push(at - Number(l.slice(2, l.indexOf(' '))));
            else other++;
          }
        }
      } finally {
        closeSync(fd);
      }
      return { lines: latencies.length, other, latencies };
    },
  };
}
