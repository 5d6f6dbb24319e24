/**
 * Which numbered lines (lines.ts) arrived, compared with the ones written: lost, duplicated,
 * altered, foreign and out of order, as counts and as the line numbers (or texts) themselves.
 *
 *   const r = checkLines(readRotated(ws, 'out.log'), 'L', 1, 35_000);
 *   assert.equal(r.lost, 0, `lost ${r.lostRanges}`);
 *
 * A line that starts like a numbered line but differs anywhere else is altered (a partial write,
 * two lines run together): counted in `altered`, not as an arrival. A line that is not a
 * numbered line at all is foreign.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { LINE_BYTES, numberedLine } from './lines.js';

export interface CheckResult {
  /** Lines written: last - first + 1. */
  expected: number;
  /** Written lines that arrived intact (once or more). */
  arrived: number;
  lost: number;
  /** Every lost line number, ascending (capped at 1,000,000). */
  lostLines: number[];
  /** Lost line numbers as ranges ("1201-1450, 3001"), at most 20 ranges. */
  lostRanges: string;
  /** Extra copies: a line that arrived 3 times counts 2. */
  duplicated: number;
  /** Line numbers that arrived more than once (at most 1,000). */
  duplicatedLines: number[];
  /** Numbered lines whose content is not exactly what the writer wrote. */
  altered: number;
  /** The first 5 altered lines (long ones shortened). */
  alteredLines: string[];
  /** The first 20 lines that are not numbered lines (shortened to 120 characters). */
  foreign: string[];
  /** Intact lines that did not come right after the line before them (in the order given). */
  outOfOrder: number;
  /** The first problem, in words, with its position. */
  firstProblem?: string;
}

const MAX_LOST = 1_000_000;
const MAX_DUPLICATED = 1_000;

/** The files of `<dir>/<base>` and its rotations (<base>.1 .. .N, .gz), delivery state and temp files excluded. */
export function rotatedFiles(dir: string, base: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => (f === base || f.startsWith(`${base}.`)) && !f.endsWith('.tmp') && !f.endsWith('.json'))
    .map((f) => join(dir, f));
}

/** `<dir>/<base>` and its rotations oldest first (logrotate names: <base>.N .. <base>.1, <base>). */
export function rotatedFilesInOrder(dir: string, base: string): string[] {
  const rank = (p: string) => {
    const m = /\.(\d+)(?:\.gz)?$/.exec(p.slice(dir.length + base.length + 1));
    return m ? Number(m[1]) : 0;
  };
  return rotatedFiles(dir, base).sort((a, b) => rank(b) - rank(a));
}

/**
 * All lines in `<dir>/<base>` and its rotations (readdir order; `inOrder`: oldest file first,
 * the order they were written in). A gzip file still being written is skipped.
 */
export function readRotated(dir: string, base: string, inOrder = false): string[] {
  const lines: string[] = [];
  for (const p of inOrder ? rotatedFilesInOrder(dir, base) : rotatedFiles(dir, base)) {
    let buf: Buffer;
    try {
      buf = readFileSync(p);
      if (p.endsWith('.gz')) buf = gunzipSync(buf);
    } catch {
      continue; // rotated away between readdir and read, or a compression in progress
    }
    for (const l of buf.toString('utf8').split('\n')) if (l) lines.push(l);
  }
  return lines;
}

/** Compare `lines` (as they arrived, in order) with the numbered lines [first, last] written with `prefix` and `lineBytes`. */
export function checkLines(lines: readonly string[], prefix: string, first: number, last: number, lineBytes = LINE_BYTES): CheckResult {
  const seen = new Uint8Array(Math.max(0, last - first + 1));
  const r: CheckResult = {
    expected: seen.length,
    arrived: 0,
    lost: 0,
    lostLines: [],
    lostRanges: '',
    duplicated: 0,
    duplicatedLines: [],
    altered: 0,
    alteredLines: [],
    foreign: [],
    outOfOrder: 0,
  };
  const problem = (what: string) => (r.firstProblem ??= what);
  const re = new RegExp(`^${prefix}(\\d{9}) `);
  let previous = first - 1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const m = re.exec(l);
    if (!m) {
      if (r.foreign.length < 20) r.foreign.push(l.slice(0, 120));
      problem(`foreign line ${JSON.stringify(l.slice(0, 120))} at ${i + 1}`);
      continue;
    }
    const n = Number(m[1]);
    if (l !== numberedLine(n, prefix, lineBytes)) {
      r.altered++;
      if (r.alteredLines.length < 5) r.alteredLines.push(l.length > 150 ? `${l.slice(0, 70)}...(${l.length})...${l.slice(-70)}` : l);
      problem(`altered line ${n} at ${i + 1}`);
      continue;
    }
    if (n < first || n > last) continue;
    if (seen[n - first]! > 0) problem(`duplicate ${n} at ${i + 1}`);
    else if (n !== previous + 1) problem(`line ${n} after line ${previous} at ${i + 1}`);
    if (n !== previous + 1) r.outOfOrder++;
    previous = n;
    if (seen[n - first]! < 255) seen[n - first]!++;
  }
  const ranges: string[] = [];
  let runStart = -1;
  for (let i = 0; i <= seen.length; i++) {
    const c = i < seen.length ? seen[i]! : 1;
    if (c === 0 && runStart < 0) runStart = i;
    if (c !== 0 && runStart >= 0) {
      if (ranges.length < 20) ranges.push(runStart === i - 1 ? String(runStart + first) : `${runStart + first}-${i - 1 + first}`);
      else if (ranges.length === 20) ranges.push('...');
      runStart = -1;
    }
    if (i === seen.length) break;
    if (c === 0) {
      r.lost++;
      if (r.lostLines.length < MAX_LOST) r.lostLines.push(i + first);
      continue;
    }
    r.arrived++;
    if (c > 1) {
      r.duplicated += c - 1;
      if (r.duplicatedLines.length < MAX_DUPLICATED) r.duplicatedLines.push(i + first);
    }
  }
  r.lostRanges = ranges.join(', ');
  if (r.lost) problem(`lost ${r.lostRanges}`);
  return r;
}

/**
 * Split lost lines by generation of the written file (generation i = [starts[i], starts[i+1] - 1],
 * starts from the writer's `rotations`): which generations were lost whole, and which only in part.
 */
export function lostByGeneration(
  lost: readonly number[],
  first: number,
  last: number,
  rotations: readonly number[],
): { whole: [number, number][]; partial: { from: number; to: number; lost: number }[] } {
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
