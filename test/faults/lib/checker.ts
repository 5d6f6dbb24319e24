/**
 * Fault-suite checker: which numbered lines arrived in the parent's files (rotated and gzipped
 * ones included), compared with the ones written. Reports lost and duplicated counts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface CheckResult {
  expected: number;
  arrived: number;
  lost: number;
  duplicated: number;
  lostSample: number[];
  dupSample: number[];
  /** Lines that did not parse as numbered lines (torn or foreign). */
  foreign: string[];
}

/** All lines in `<dir>/<base>` and its rotations (<base>.1 .. .N, .gz). */
export function readRotated(dir: string, base: string): string[] {
  if (!existsSync(dir)) return [];
  const lines: string[] = [];
  for (const f of readdirSync(dir)) {
    if (f !== base && !f.startsWith(`${base}.`)) continue;
    if (f.endsWith('.tmp') || f.endsWith('.json')) continue;
    let buf = readFileSync(join(dir, f));
    if (f.endsWith('.gz')) buf = gunzipSync(buf);
    const text = buf.toString('utf8');
    for (const l of text.split('\n')) if (l) lines.push(l);
  }
  return lines;
}

export function check(lines: string[], prefix: string, first: number, last: number): CheckResult {
  const seen = new Uint8Array(last - first + 1);
  const foreign: string[] = [];
  const re = new RegExp(`^${prefix}(\\d{9}) `);
  for (const l of lines) {
    const m = re.exec(l);
    if (!m) {
      if (foreign.length < 20) foreign.push(l.slice(0, 120));
      continue;
    }
    const n = Number(m[1]);
    if (n < first || n > last) continue;
    if (seen[n - first]! < 255) seen[n - first]!++;
  }
  let lost = 0;
  let dup = 0;
  let arrived = 0;
  const lostSample: number[] = [];
  const dupSample: number[] = [];
  for (let i = 0; i < seen.length; i++) {
    const c = seen[i]!;
    if (c === 0) {
      lost++;
      if (lostSample.length < 10) lostSample.push(i + first);
    } else {
      arrived++;
      if (c > 1) {
        dup += c - 1;
        if (dupSample.length < 10) dupSample.push(i + first);
      }
    }
  }
  return { expected: seen.length, arrived, lost, duplicated: dup, lostSample, dupSample, foreign };
}
