/**
 * Fault-suite checker: which numbered lines arrived in the parent's files (rotated and gzipped
 * ones included), compared with the ones written. Reports lost, duplicated and torn counts.
 *
 * The writer's line n is exactly `<prefix><n, 9 digits> <x * (lineBytes - prefix - 11)>`, so a
 * line that starts like a numbered line but differs anywhere else is torn (a partial write, two
 * lines run together): it is counted in `torn` and does not count as an arrival.
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
  /** Every lost line number (capped at 1,000,000). */
  lostAll: number[];
  /** Lost line numbers as ranges ("1201-1450, 3001"), at most 20 ranges. */
  lostRanges: string;
  dupSample: number[];
  /** Numbered lines whose content is not exactly what the writer wrote. */
  torn: number;
  tornSample: string[];
  /** Lines that did not parse as numbered lines (foreign). */
  foreign: string[];
}

/** The files of `<dir>/<base>` and its rotations (<base>.1 .. .N, .gz), delivery state and temp files excluded. */
export function rotatedFiles(dir: string, base: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => (f === base || f.startsWith(`${base}.`)) && !f.endsWith('.tmp') && !f.endsWith('.json'))
    .map((f) => join(dir, f));
}

/** All lines in `<dir>/<base>` and its rotations. A gzip file still being written is skipped. */
export function readRotated(dir: string, base: string): string[] {
  const lines: string[] = [];
  for (const p of rotatedFiles(dir, base)) {
    let buf: Buffer;
    try {
      buf = readFileSync(p);
      if (p.endsWith('.gz')) buf = gunzipSync(buf);
    } catch {
      continue; // rotated away between readdir and read, or a compression in progress
    }
    const text = buf.toString('utf8');
    for (const l of text.split('\n')) if (l) lines.push(l);
  }
  return lines;
}

export function check(lines: string[], prefix: string, first: number, last: number, lineBytes = 100): CheckResult {
  const seen = new Uint8Array(Math.max(0, last - first + 1));
  const foreign: string[] = [];
  const tornSample: string[] = [];
  let torn = 0;
  const re = new RegExp(`^${prefix}(\\d{9}) `);
  const pad = 'x'.repeat(Math.max(0, lineBytes - prefix.length - 11));
  for (const l of lines) {
    const m = re.exec(l);
    if (!m) {
      if (foreign.length < 20) foreign.push(l.slice(0, 120));
      continue;
    }
    if (l.length !== m[0].length + pad.length || !l.endsWith(pad)) {
      torn++;
      if (tornSample.length < 5) tornSample.push(l.length > 150 ? `${l.slice(0, 70)}...(${l.length})...${l.slice(-70)}` : l);
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
  const lostAll: number[] = [];
  const lostR: string[] = [];
  let runStart = -1;
  const dupSample: number[] = [];
  for (let i = 0; i <= seen.length; i++) {
    const c = i < seen.length ? seen[i]! : 1;
    if (c === 0) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      if (lostR.length < 20) lostR.push(runStart === i - 1 ? String(runStart + first) : `${runStart + first}-${i - 1 + first}`);
      else if (lostR.length === 20) lostR.push('...');
      runStart = -1;
    }
    if (i === seen.length) break;
    if (c === 0) {
      lost++;
      if (lostSample.length < 10) lostSample.push(i + first);
      if (lostAll.length < 1_000_000) lostAll.push(i + first);
    } else {
      arrived++;
      if (c > 1) {
        dup += c - 1;
        if (dupSample.length < 10) dupSample.push(i + first);
      }
    }
  }
  return { expected: seen.length, arrived, lost, duplicated: dup, lostSample, lostAll, lostRanges: lostR.join(', '), dupSample, torn, tornSample, foreign };
}

/**
 * Split lost lines by generation of the written file (generation i = [starts[i], starts[i+1] - 1],
 * starts from the writer's `rotations`): which generations were lost whole, and which only in part.
 */
export function lostByGeneration(lost: readonly number[], first: number, last: number, rotations: readonly number[]): { whole: [number, number][]; partial: { from: number; to: number; lost: number }[] } {
  const starts = [first, ...rotations.filter((s) => s > first && s <= last)];
  const whole: [number, number][] = [];
  const partial: { from: number; to: number; lost: number }[] = [];
  let j = 0;
  for (let i = 0; i < starts.length; i++) {
    const from = starts[i]!;
    const to = i + 1 < starts.length ? starts[i + 1]! - 1 : last;
    let n = 0;
    while (j < lost.length && lost[j]! <= to) {
      if (lost[j]! >= from) n++;
      j++;
    }
    if (n === 0) continue;
    if (n === to - from + 1) whole.push([from, to]);
    else partial.push({ from, to, lost: n });
  }
  return { whole, partial };
}
