/**
 * Line splitting for tail: bytes in, line ranges (or strings) out, with the byte offset after
 * each line. Hot path: one indexOf(10) per line, nothing else per line in the common case (an
 * ASCII or valid-UTF-8 batch).
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { nativeLines } from '../../core/native-lines.js';
import { LINE_INVALID_UTF8, LINE_TRUNCATED } from '../../core/record.js';

/** The line is a piece of a line longer than the limit. */
export const F_TRUNCATED = LINE_TRUNCATED;
/** The line held bytes that are not valid UTF-8 (decoded as U+FFFD). */
export const F_INVALID_UTF8 = LINE_INVALID_UTF8;
/** The piece is the first of its long line (for counting long lines, not pieces). */
export const F_LONG_START = 4;

/** Receives one line as its byte range [start, end) in the buffer, the file offset just after it, flags. */
export type RangeFn = (start: number, end: number, seq: number, flags: number) => void;

/**
 * Takes the plain lines of view[from, to) (`to` is just after an LF) at once, as RangeFn would
 * receive them one by one (flags 0), and returns where it stopped: `to`, or the start of the
 * first line longer than maxLine (scanLines splits that one and calls again after it). Only
 * given lines when every line of the batch is valid UTF-8 and no long line is being continued.
 */
export type BulkFn = (view: Buffer, from: number, to: number, maxLine: number, base: number) => number;

export interface SplitState {
  /** Bytes of the batch consumed (complete lines and emitted pieces). */
  consumed: number;
  /** The last thing emitted was a piece of a line that has not ended yet. */
  inLong: boolean;
  /** Every consumed byte is ASCII (lines decode exactly, and faster, as latin1). */
  ascii: boolean;
}

const LF = 10;
const CR = 13;

/** Cut point <= want that does not split a UTF-8 sequence or a CR LF pair. */
function cutAt(buf: Buffer, start: number, want: number): number {
  let cut = want;
  // Step back over continuation bytes (10xxxxxx), at most 3, to land on a character start.
  for (let i = 0; i < 3 && cut > start + 1 && (buf[cut]! & 0xc0) === 0x80; i++) cut--;
  if ((buf[cut]! & 0xc0) === 0x80) cut = want; // not UTF-8 text anyway: cut where asked
  if (cut > start + 1 && buf[cut - 1] === CR) cut--;
  return cut;
}

/**
 * Scan buf[0, n), which holds the file's bytes from offset `base`, for lines: each is reported
 * as its byte range in buf. Complete lines are emitted with CR LF or LF removed. A line longer than maxLine bytes is
 * emitted in pieces of at most maxLine bytes, each flagged F_TRUNCATED (a piece is emitted as
 * soon as more than maxLine bytes of the line are known). With `final`, an unterminated last
 * line is emitted too (the file is finished). Returns what was consumed; the caller re-reads
 * from base + consumed next time. With `bulk`, runs of plain lines go to it instead of `out`
 * (the same lines, fewer calls: tail's follower passes the addon's split).
 */
export function scanLines(buf: Buffer, n: number, base: number, maxLine: number, inLong: boolean, final: boolean, out: RangeFn, bulk?: BulkFn): SplitState {
  const view = n === buf.length ? buf : buf.subarray(0, n);
  const last = view.lastIndexOf(LF);
  // 0: ASCII (latin1 slice is exact), 1: valid UTF-8, 2: some line is invalid: check per line.
  let mode = 0;
  if (last >= 0) {
    const done = last + 1 === n ? view : view.subarray(0, last + 1);
    if (!isAscii(done)) mode = isUtf8(done) ? 1 : 2;
  }
  const bad = (s: number, e: number): number => (isUtf8(view.subarray(s, e)) ? 0 : F_INVALID_UTF8);

  let s = 0;
  let long = inLong;
  if (last >= 0) {
    const runs = mode === 2 ? undefined : bulk;
    for (;;) {
      if (runs && !long) {
        s = runs(view, s, last + 1, maxLine, base);
        if (s > last) break;
      }
      const nl = view.indexOf(LF, s);
      if (nl === -1) break;
      let e = nl;
      if (e > s && view[e - 1] === CR) e--;
      if (e - s > maxLine) {
        // A long line that ends inside this batch: pieces, the last one covering the LF.
        while (e - s > maxLine) {
          const cut = cutAt(view, s, s + maxLine);
          out(s, cut, base + cut, F_TRUNCATED | (long ? 0 : F_LONG_START) | (mode === 2 ? bad(s, cut) : 0));
          long = true;
          s = cut;
        }
        out(s, e, base + nl + 1, F_TRUNCATED | (mode === 2 ? bad(s, e) : 0));
      } else if (long) {
        // The end of a line whose earlier pieces were emitted; nothing left but CR: skip.
        if (e > s) out(s, e, base + nl + 1, F_TRUNCATED | (mode === 2 ? bad(s, e) : 0));
      } else {
        out(s, e, base + nl + 1, mode === 2 ? bad(s, e) : 0);
      }
      long = false;
      s = nl + 1;
    }
  }
  // Unterminated rest: emit pieces while more than maxLine bytes are known.
  while (n - s > maxLine) {
    const cut = cutAt(view, s, s + maxLine);
    out(s, cut, base + cut, F_TRUNCATED | (long ? 0 : F_LONG_START) | bad(s, cut));
    s = cut;
    long = true;
  }
  if (final && s < n) {
    out(s, n, base + n, (long ? F_TRUNCATED : 0) | bad(s, n));
    s = n;
    long = false;
  }
  // The complete lines were checked above; a rest consumed beyond them (pieces of a long line,
  // a final unterminated line) is checked here.
  const checked = last + 1;
  const ascii = mode === 0 && (s <= checked || isAscii(view.subarray(checked, s)));
  return { consumed: s, inLong: long, ascii };
}

/** Growable per-line arrays for splitting one batch; `count` entries are filled. */
export class LineScratch {
  count = 0;
  starts = new Uint32Array(4096);
  ends = new Uint32Array(4096);
  seqs = new Uint32Array(4096);
  flags = new Uint8Array(4096);

  grow(): void {
    const n = this.starts.length * 2;
    const g = <T extends Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.starts = g(this.starts, (k) => new Uint32Array(k));
    this.ends = g(this.ends, (k) => new Uint32Array(k));
    this.seqs = g(this.seqs, (k) => new Uint32Array(k));
    this.flags = g(this.flags, (k) => new Uint8Array(k));
  }
}

/**
 * The addon's splitLines (native/lines.cc) as a BulkFn that appends to `sc` from sc.count on
 * (growing it): starts, ends, flags 0, and seqs as RangeFn's (`base` + the position after the
 * line's LF; a caller that keeps seqs relative to its offset passes base - offset). Undefined
 * without the addon.
 */
export function splitInto(sc: LineScratch): BulkFn | undefined {
  const n = nativeLines();
  if (n === undefined) return undefined;
  const info = new Float64Array(1);
  return (view, from, to, maxLine, base) => {
    for (;;) {
      sc.count = n.splitLines(view, from, to, maxLine, sc.starts, sc.ends, sc.seqs, sc.flags, sc.count, base, info);
      from = info[0]!;
      // Stopped short with room left: a long line, for scanLines.
      if (from >= to || sc.count < sc.starts.length) return from;
      sc.grow();
    }
  };
}
