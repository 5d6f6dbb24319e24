/**
 * tail's `multiline` option: the lines of each byte stream (src) are joined into records before
 * they leave, and the offset tail may commit never passes the start of a record still being
 * assembled: a joined record's meta.seq is the end of its last line, and a restart in the middle
 * of a stack trace reads the whole trace again. Streams are keyed by src, so a copytruncate copy
 * that continues a stream continues its open record.
 */
import { blockRecord, type LineBlock, type LogRecord } from '../../core/record.js';
import type { Machine } from '../../core/multiline/ml-machine.js';
import { type MultilineCounts, type MultilineLimits, MultilineStream, newCounts } from '../../core/multiline/ml-stream.js';
import type { TailFile } from './tail-file.js';

export interface TailMultilineOptions {
  readonly machine: Machine;
  readonly limits: MultilineLimits;
}

interface Open {
  readonly stream: MultilineStream;
  /** The file reading this stream now (a copy may take it over). */
  file: TailFile;
}

/** Records to emit for `file`, and the offset its commit queue may reach once they settle. */
export interface Joined {
  readonly file: TailFile;
  readonly records: LogRecord[];
  readonly end: number;
}

export class TailJoiner {
  private readonly open = new Map<string, Open>();
  readonly counts: MultilineCounts = newCounts();

  constructor(private readonly o: TailMultilineOptions) {}

  get flushMs(): number {
    return this.o.machine.flushMs;
  }

  /** Join the lines of `block`, just read from `f` (which is at their end now). */
  lines(f: TailFile, block: LineBlock, tag: string): Joined {
    let e = this.open.get(f.src);
    const s = e?.stream ?? new MultilineStream(this.o.machine, this.o.limits, this.counts);
    const records: LogRecord[] = [];
    const emit = (r: LogRecord) => {
      records.push(r);
    };
    for (let i = 0; i < block.count; i++) s.push(blockRecord(block, i, tag), block.base + (i ? block.seqs[i - 1]! : 0), emit);
    // A bypassing stream is kept too, or the bypass would end with the read batch.
    if (s.holding || s.bypassing) {
      if (e) e.file = f;
      else this.open.set(f.src, (e = { stream: s, file: f }));
    } else if (e) this.open.delete(f.src);
    return { file: f, records, end: this.commitEnd(f, s) };
  }

  /** Emit what `f` holds (it was read to its end and is closed for good). */
  finish(f: TailFile): Joined | undefined {
    const e = this.open.get(f.src);
    if (!e || e.file !== f) return undefined;
    return this.flushOne(f.src, e, Number.POSITIVE_INFINITY);
  }

  /** Records held longer than flush_timeout without a line joining them. */
  flushIdle(nowMs: number): Joined[] {
    const out: Joined[] = [];
    const before = nowMs - this.o.machine.flushMs;
    for (const [src, e] of this.open) {
      const t = e.stream.oldest();
      if (t !== undefined && t <= before) out.push(this.flushOne(src, e, before + 0.001));
    }
    return out;
  }

  private flushOne(src: string, e: Open, olderThan: number): Joined {
    const records: LogRecord[] = [];
    e.stream.flush((r) => {
      records.push(r);
    }, olderThan);
    if (!e.stream.holding) this.open.delete(src);
    // A stream its file no longer reads (truncated, no copy found) does not move that file's commits.
    const end = e.file.src === src ? this.commitEnd(e.file, e.stream) : e.file.queue.emitted;
    return { file: e.file, records, end };
  }

  /** Where `f`'s committed offset may go: its read position, or the start of the record it holds. */
  private commitEnd(f: TailFile, s: MultilineStream): number {
    const held = s.holding ? s.heldStart() : Number.NaN;
    // NaN (nothing held) compares false: the read position.
    if (held < f.offset) return held;
    return f.offset;
  }
}
