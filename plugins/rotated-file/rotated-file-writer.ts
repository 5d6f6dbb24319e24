/**
 * One output file: a rotating-file-stream (logrotate names <file>.1 .. .N) with batched writes
 * in front, exactly-once bookkeeping and fault handling. Writes to a file are serialised.
 *
 * Order for each part (a run of whole lines that ends at the rotation boundary):
 *   write (one write call) -> check the file grew by exactly the part -> fsync (fsync: batch)
 *   -> record the state (size + per-source marks: one append to the state journal, synced with
 *   fsync: batch) -> next part -> ... -> ack the chunk.
 * When the part makes the file reach rotate_size, rotating-file-stream rotates before our write
 * callback runs: its synchronous `rotation` event is where the part is checked, synced and
 * recorded (synchronously, with a `rotating` marker) before the file is renamed; the `open`
 * event of the new file records the new inode and clears the marker.
 *
 * Any failure (ENOSPC, EIO, a deleted file, a short write): the stream is dropped, the live file
 * is cut back to the last recorded size (no torn line), the write is rejected (no ack: the sender
 * keeps the data and the core retries), and the next attempt re-creates the stream.
 */
import { isUtf8 } from 'node:buffer';
import { fstatSync, fsync, fsyncSync, ftruncateSync, lstatSync, openSync, renameSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import type { RotatingFileStream } from 'rotating-file-stream';
import { lazyModule } from '../../core/lazy.js';
import { nativeLines } from '../../core/native-lines.js';
import { base64Length, sealedLineHead, writeBase64 } from '../../core/seal/line.js';
import type { Logger } from 'pino';
import type { Counters, EntryBlock, LogRecord } from '../../core/index.js';
import { RefusedPath, type Confined } from './rotated-file-path.js';
import { cutFile, reconcile, type RecoveryContext } from './rotated-file-recover.js';
import { closeQuietly, copyState, StateStore, type Delta, type FileState } from './rotated-file-state.js';

// Loaded on first use: it brings zlib and child_process, which an enclave agent never needs.
const rfs = lazyModule<typeof import('rotating-file-stream')>('rotating-file-stream');

/**
 * Loads what the first write needs (rotating-file-stream) now: an agent with a rotated-file output
 * loads it anyway, and at its first write it delayed the first message's ack by ~4 ms.
 */
export function loadWriterModules(): void {
  rfs();
}

const fsyncAsync = promisify(fsync);

/** How a record becomes its line (without the newline). */
export type LineFormat = (r: LogRecord) => string;

type Utf8Writer = Buffer & { utf8Write(s: string, offset: number): number; utf8Slice(start: number, end: number): string };
/** A writer's reused part buffer is dropped after a part bigger than this. */
const SCRATCH_KEEP = 8 << 20;

/** How far a chunk got in this file; kept across retries of the same chunk (records without src/seq). */
export interface Progress {
  done: number;
}

export interface WriterOptions {
  /** Workspace-relative name (messages, state). */
  rel: string;
  /** Re-checks the path and creates directories; called before every (re)open. */
  locate: () => Confined;
  statePath: string;
  rotateSize: number;
  rotateNum: number;
  compress: boolean;
  fsync: boolean;
  mode: number;
  log: Logger;
  counters: Counters;
  /** Called with every failure (the caller logs once per episode). */
  onFailure: (w: RotatedFileWriter, err: NodeJS.ErrnoException) => void;
  onSuccess: (w: RotatedFileWriter) => void;
}

interface Part {
  buf: Buffer;
  marks: Map<string, number>;
  skipped: number;
  lines: number;
  end: number;
  committed: boolean;
}

const EMPTY = Buffer.alloc(0);

function errno(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

export class RotatedFileWriter {
  readonly rel: string;
  path = '';
  private stream?: RotatingFileStream;
  /** Our own read-write descriptor on the live file: fstat, fsync, ftruncate (never written through). */
  private fd = -1;
  private store: StateStore;
  private part?: Part;
  /** Reused by nextPart for every part of this file. */
  private scratch: Buffer = EMPTY;
  /** Where the addon's gatherRun left the part: position, mark, whether the mark moved. */
  private readonly runInfo = new Float64Array(3);
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private closed = false;
  private foreignWarned = false;
  lastUsed = Date.now();

  constructor(private readonly o: WriterOptions) {
    this.rel = o.rel;
    const so = {
      durable: o.fsync,
      file: o.rel,
      onFoldError: (e: Error) =>
        o.log.warn({ err: e }, `${o.rel}: could not fold the state journal into ${o.statePath} (${e.message}); the journal is kept (tried again later)`),
    };
    try {
      this.store = new StateStore(o.statePath, so);
    } catch (e) {
      // Unreadable state: keep it (and its journal, whose changes apply to it) aside for
      // inspection and start from what the file holds.
      const aside = `${o.statePath}.corrupt-${Date.now()}`;
      for (const [from, to] of [
        [o.statePath, aside],
        [`${o.statePath}.journal`, `${aside}.journal`],
      ] as const) {
        try {
          renameSync(from, to);
        } catch {
          /* nothing to move */
        }
      }
      o.log.error(
        { err: e },
        `${o.rel}: delivery state ${o.statePath} is unreadable (${(e as Error).message}); moved to ${aside}, starting from the file as it is (duplicates of the last chunk are possible)`,
      );
      this.store = new StateStore(o.statePath, so);
    }
    const l = this.store.loaded;
    if (l.lost)
      o.log.warn(
        { file: this.store.journal },
        `${o.rel}: delivery state ${o.statePath} says its journal ${this.store.journal} follows it, but there is none (state files copied or restored without it?); taking the file as it is: nothing is cut, the last chunks may be written again`,
      );
    if (l.ignored > 0 || l.stale > 0)
      o.log.info(
        { file: this.store.journal, ignored: l.ignored, stale: l.stale },
        `${o.rel}: state journal ${this.store.journal}: ${l.ignored} bytes after the last whole change ignored (a write cut by a crash), ${l.stale} changes already in the base skipped`,
      );
  }

  /** What the file holds (the store's: it changes only once recorded). */
  private get state(): FileState {
    return this.store.state;
  }

  get busy(): boolean {
    return this.pending > 0;
  }

  /** Append the records' lines (from progress.done on); resolves once written and recorded. */
  write(items: readonly LogRecord[], format: LineFormat, progress: Progress): Promise<void> {
    return this.append(items.length, (start) => this.nextPart(items, format, start), progress);
  }

  /**
   * Append the lines of forwarded entries (from progress.done on, counting lines across the
   * blocks), byte for byte as write() with the `line` format writes their records.
   */
  writeBlocks(blocks: readonly EntryBlock[], progress: Progress): Promise<void> {
    let n = 0;
    for (const b of blocks) n += b.count;
    return this.append(n, (start) => this.nextBlockPart(blocks, start), progress);
  }

  /** Write parts (from progress.done up to `count`), one at a time, behind earlier writes. */
  private append(count: number, next: (start: number) => Part, progress: Progress): Promise<void> {
    this.pending++;
    this.lastUsed = Date.now();
    const run = async () => {
      try {
        if (this.closed) throw new Error(`${this.rel}: the file was closed (agent stopping)`);
        while (progress.done < count) {
          // (Re)open before each part: the stream may have been dropped (file moved away, error).
          await this.ensureOpen();
          const part = next(progress.done);
          if (part.lines > 0) await this.writePart(part);
          this.o.counters.add('duplicates_skipped', part.skipped);
          progress.done = part.end;
        }
        this.o.onSuccess(this);
      } finally {
        this.pending--;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** The part buffer with room for `need` bytes (the `off` bytes written so far kept). */
  private room(buf: Buffer, off: number, need: number): Buffer {
    if (need <= buf.length) return buf;
    const nb = Buffer.allocUnsafeSlow(Math.max(need, buf.length * 2, 64 * 1024));
    buf.copy(nb, 0, 0, off);
    return nb;
  }

  /**
   * Lines from `start` up to and including the one that makes the file reach rotate_size,
   * encoded straight into one buffer (one write call; no string concatenation to flatten). The
   * buffer is the writer's own, reused by the next part: parts of a file are written one at a
   * time, and a part is done with its buffer once written and recorded.
   */
  private nextPart(items: readonly LogRecord[], format: LineFormat, start: number): Part {
    const room = this.o.rotateSize - this.state.size;
    const marks = new Map<string, number>();
    const hw = this.state.hw;
    let buf = this.scratch;
    let off = 0;
    let skipped = 0;
    let lines = 0;
    let i = start;
    while (i < items.length) {
      const r = items[i++]!;
      const src = r.meta.src;
      const seq = r.meta.seq;
      if (typeof src === 'string' && typeof seq === 'number') {
        const prev = marks.get(src) ?? hw.get(src);
        if (prev !== undefined && seq <= prev) {
          skipped++;
          continue;
        }
        marks.set(src, seq);
      }
      const line = format(r);
      // UTF-8 needs at most 3 bytes per UTF-16 unit.
      buf = this.room(buf, off, off + line.length * 3 + 1);
      off += (buf as Utf8Writer).utf8Write(line, off);
      buf[off++] = 10;
      lines++;
      if (off >= room) break;
    }
    this.scratch = buf.length <= SCRATCH_KEEP ? buf : EMPTY;
    return { buf: buf.subarray(0, off), marks, skipped, lines, end: i, committed: false };
  }

  /**
   * nextPart for the lines of entry blocks, with the same dedupe and rotation boundary: the
   * lines' bytes are copied as they are. Bytes that are not valid UTF-8 would be written as a
   * record's string holds them (U+FFFD), so a part that is not valid UTF-8 is made again with
   * each line decoded and encoded (lines are joined by "\n": the part is valid UTF-8 exactly
   * when each line is). A block of sealed units gets each unit's `qlog-sealed/1` line, its
   * base64 written straight into the part (always valid UTF-8: not checked).
   */
  private nextBlockPart(blocks: readonly EntryBlock[], start: number, decode = false): Part {
    const room = this.o.rotateSize - this.state.size;
    const marks = new Map<string, number>();
    const hw = this.state.hw;
    let buf = this.scratch;
    let off = 0;
    let skipped = 0;
    let lines = 0;
    let i = start;
    let bi = 0;
    let j = start;
    while (bi < blocks.length && j >= blocks[bi]!.count) j -= blocks[bi++]!.count;
    // Sized once for the whole part (rounded up to 64 KiB), not grown by doubling: a 1 MiB part
    // would leave a 2 MiB scratch buffer, and the smaller ones it grew through, behind.
    if (!decode) {
      const bound = partBound(blocks, bi, j, room);
      if (bound > buf.length) buf = Buffer.allocUnsafeSlow(Math.ceil(bound / 65536) * 65536);
    }
    // The current source and its mark (highest seq written), written to `marks` on a change.
    let cur: string | undefined;
    let mark: number | undefined;
    let dirty = false;
    let raw = false;
    // Raw lines are copied by the addon, a run of lines that need no decision per call
    // (gatherRun): per line in JavaScript, a view and a copy each cost more than the addon's
    // whole run, and so did deciding each line's dedupe here.
    const native = decode ? undefined : nativeLines();
    const info = this.runInfo;
    outer: for (; bi < blocks.length; bi++, j = 0) {
      const b = blocks[bi]!;
      const { starts, ends, srcOf, seqs, srcs, units } = b;
      raw ||= units === undefined;
      const bytes = new Uint8Array(b.buf.buffer, b.buf.byteOffset, b.buf.length);
      const gather = units === undefined ? native : undefined;
      while (j < b.count) {
        if (gather) {
          const curIdx = cur === undefined ? -1 : srcs.indexOf(cur);
          const next = gather.gatherRun(buf, off, b.buf, starts, ends, srcOf, seqs, j, b.count, curIdx, mark ?? Number.NaN, room, info);
          if (next > j) {
            lines += next - j;
            i += next - j;
            j = next;
            off = info[0]!;
            if (info[2]) {
              mark = info[1]!;
              dirty = true;
            }
            if (off >= room) break outer;
            if (j === b.count) break;
          }
        }
        const si = srcOf[j]!;
        const seq = seqs[j]!;
        if (si >= 0 && !Number.isNaN(seq)) {
          const src = srcs[si]!;
          if (src !== cur) {
            if (dirty) marks.set(cur!, mark!);
            cur = src;
            mark = marks.get(src) ?? hw.get(src);
            dirty = false;
            // The addon takes it from here, with this source's mark.
            if (gather) continue;
          }
          if (mark !== undefined && seq <= mark) {
            skipped++;
            i++;
            j++;
            continue;
          }
          if (!gather) {
            mark = seq;
            dirty = true;
          }
        }
        const s = starts[j]!;
        const e = ends[j]!;
        if (gather) {
          // The addon stopped before a line it could keep: dst is full. Grow it and go on.
          buf = this.room(buf, off, off + e - s + 1);
          continue;
        }
        i++;
        j++;
        if (units) {
          // As sealedLine: '-' for a unit without src (or an empty one).
          const head = sealedLineHead(si >= 0 && srcs[si] !== '' ? srcs[si]! : '-', units.firsts[j - 1]!, units.lasts[j - 1]!);
          buf = this.room(buf, off, off + head.length * 3 + base64Length(e - s) + 1);
          off += (buf as Utf8Writer).utf8Write(head, off);
          off = writeBase64(buf, off, b.buf, s, e);
        } else if (decode) {
          const line = (b.buf as Utf8Writer).utf8Slice(s, e);
          buf = this.room(buf, off, off + line.length * 3 + 1);
          off += (buf as Utf8Writer).utf8Write(line, off);
        } else {
          buf = this.room(buf, off, off + e - s + 1);
          buf.set(bytes.subarray(s, e), off);
          off += e - s;
        }
        buf[off++] = 10;
        lines++;
        if (off >= room) break outer;
      }
    }
    if (dirty) marks.set(cur!, mark!);
    this.scratch = buf.length <= SCRATCH_KEEP ? buf : EMPTY;
    if (!decode && raw && !isUtf8(buf.subarray(0, off))) return this.nextBlockPart(blocks, start, true);
    return { buf: buf.subarray(0, off), marks, skipped, lines, end: i, committed: false };
  }

  private async writePart(part: Part): Promise<void> {
    const stream = this.stream!;
    this.part = part;
    try {
      await new Promise<void>((resolve, reject) => {
        stream.write(part.buf, (err) => (err ? reject(err) : resolve()));
      });
    } catch (e) {
      this.part = undefined;
      throw this.fail(e as NodeJS.ErrnoException);
    }
    this.part = undefined;
    if (part.committed) return this.done(part);
    let st;
    try {
      st = fstatSync(this.fd);
    } catch (e) {
      throw this.fail(e as NodeJS.ErrnoException);
    }
    if (st.nlink === 0) throw this.fail(errno(`${this.path} was deleted while being written (workspace removed?)`, 'ENOENT'));
    const expected = this.state.size + part.buf.length;
    if (st.size < expected)
      throw this.fail(errno(`short write to ${this.path}: ${st.size - this.state.size} of ${part.buf.length} bytes (disk full?)`, 'ENOSPC'));
    this.noteForeign(st.size, expected);
    try {
      if (this.o.fsync) await fsyncAsync(this.fd);
      // The state changes only once recorded: a failed commit cuts the part off again.
      await this.store.commit({ size: st.size, marks: part.marks });
    } catch (e) {
      throw this.fail(e as NodeJS.ErrnoException);
    }
    this.done(part);
    this.checkMoved(st.ino);
  }

  private done(part: Part): void {
    this.o.counters.add('lines_written', part.lines);
    this.o.counters.add('bytes_written', part.buf.length);
  }

  private noteForeign(size: number, expected: number): void {
    if (size > expected && !this.foreignWarned) {
      this.foreignWarned = true;
      this.o.log.warn({ file: this.path }, `${this.path} grew by more than qlog wrote: another program appends to it; its lines may interleave with qlog's`);
    }
  }

  /** The live path now names another file (moved away by another tool): write to a new one from now on. */
  private checkMoved(ino: number): void {
    let now: number | undefined;
    try {
      now = statSync(this.path).ino;
    } catch {
      /* removed */
    }
    if (now !== ino) {
      this.o.log.warn({ file: this.path }, `${this.path} was moved or removed by another program after qlog wrote to it; starting a new file`);
      this.drop();
    }
  }

  // ---- stream lifecycle ----

  private async ensureOpen(): Promise<void> {
    if (this.stream) return;
    let stream: RotatingFileStream;
    try {
      const where = this.o.locate();
      this.path = where.path;
      // On a copy: the state changes only once recorded.
      const s = copyState(this.state);
      if (reconcile(s, this.recovery())) this.store.commitSync({ ino: s.ino, size: s.size, rotating: s.rotating ?? null });
      stream = rfs().createStream(where.base, {
        path: where.dir,
        size: `${Math.max(1, this.o.rotateSize)}B`,
        rotate: this.o.rotateNum,
        mode: this.o.mode,
        ...(this.o.compress ? { compress: 'gzip' as const } : {}),
      });
    } catch (e) {
      if (e instanceof RefusedPath) throw e;
      throw this.fail(e as NodeJS.ErrnoException);
    }
    this.stream = stream;
    stream.on('rotation', () => this.onRotation(stream));
    stream.on('open', () => this.onOpen(stream));
    stream.on('warning', (w: Error) => this.o.log.debug({ err: w }, `${this.rel}: rotation warning: ${w.message}`));
    try {
      await new Promise<void>((resolve, reject) => {
        const ok = () => {
          stream.off('error', bad);
          resolve();
        };
        const bad = (e: Error) => {
          stream.off('open', ok);
          reject(e);
        };
        stream.once('open', ok);
        stream.once('error', bad);
      });
    } catch (e) {
      throw this.fail(e as NodeJS.ErrnoException);
    }
    // From now on a write in flight reports its own error; an error between writes is reported here.
    stream.on('error', (e: Error) => {
      if (this.stream === stream && !this.part) this.fail(e as NodeJS.ErrnoException);
    });
  }

  private rotatedName(n: number): string {
    return `${this.path}.${n}${this.o.compress ? '.gz' : ''}`;
  }

  private inode(path: string): number | null {
    try {
      return lstatSync(path).ino;
    } catch {
      return null;
    }
  }

  /**
   * rotating-file-stream is about to rename the live file: record the part that filled it first
   * (synchronously: the rename follows). Throwing here aborts the rotation and fails the write.
   */
  private onRotation(stream: RotatingFileStream): void {
    if (this.stream !== stream) return;
    const p = this.part;
    const change: Delta = { rotating: { ino: this.state.ino, first: this.inode(this.rotatedName(1)) } };
    if (p && this.fd >= 0) {
      const st = fstatSync(this.fd);
      const expected = this.state.size + p.buf.length;
      if (st.nlink === 0) throw errno(`${this.path} was deleted while being written (workspace removed?)`, 'ENOENT');
      if (st.size < expected) throw errno(`short write to ${this.path}: ${st.size - this.state.size} of ${p.buf.length} bytes (disk full?)`, 'ENOSPC');
      if (this.o.fsync) fsyncSync(this.fd);
      this.noteForeign(st.size, expected);
      change.size = st.size;
      change.marks = p.marks;
    }
    this.store.commitSync(change);
    if (p) p.committed = true;
    this.closeFd();
    this.o.counters.add('rotations');
  }

  /** A live file was opened (the first one, or the new one after a rotation): record its inode. */
  private onOpen(stream: RotatingFileStream): void {
    if (this.stream !== stream) return;
    this.closeFd();
    this.fd = openSync(this.path, 'r+');
    const st = fstatSync(this.fd);
    if (this.state.rotating || this.state.ino !== st.ino) this.store.commitSync({ ino: st.ino, size: st.size, rotating: null });
  }

  private recovery(): RecoveryContext {
    return { path: this.path, rel: this.rel, compress: this.o.compress, log: this.o.log, counters: this.o.counters, rotatedName: (n) => this.rotatedName(n) };
  }

  private closeFd(): void {
    this.fd = closeQuietly(this.fd);
  }

  /** Forget the stream (it is re-created on the next write). */
  private drop(): void {
    const s = this.stream;
    this.stream = undefined;
    this.closeFd();
    if (s) {
      s.removeAllListeners('rotation');
      s.removeAllListeners('open');
      s.on('error', () => undefined);
      if (!s.destroyed) s.destroy();
    }
  }

  /** A write failed: drop the stream, cut any torn bytes, report. Returns the error to throw. */
  private fail(err: NodeJS.ErrnoException): NodeJS.ErrnoException {
    // Cut through our descriptor when we have it (exact inode), else by path after an inode check.
    try {
      if (this.fd >= 0) {
        const st = fstatSync(this.fd);
        if (st.ino === this.state.ino && st.size > this.state.size) {
          ftruncateSync(this.fd, this.state.size);
          this.o.counters.add('torn_bytes_cut', st.size - this.state.size);
        }
      } else if (this.state.ino !== null && this.path) {
        const live = lstatSync(this.path);
        if (live.ino === this.state.ino && live.size > this.state.size) cutFile(this.recovery(), live.ino, this.state.size, live.size);
      }
    } catch (e) {
      this.o.log.debug({ err: e }, `${this.rel}: could not cut back to ${this.state.size} bytes yet (retried before the next write)`);
    }
    this.drop();
    this.o.counters.add('write_errors');
    this.o.onFailure(this, err);
    return err;
  }

  /** Wait for queued writes, then close the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const s = this.stream;
    this.stream = undefined;
    this.closeFd();
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('error', () => resolve());
        s.end(() => resolve());
      });
    }
    try {
      this.store.close();
    } catch (e) {
      // The journal stays: the next start reads it as it is.
      this.o.log.warn(
        { err: e },
        `${this.rel}: could not fold the state journal into ${this.o.statePath} (${(e as Error).message}); it is kept and read at the next start`,
      );
    }
  }
}

/** What a sealed unit's line head is reckoned at when sizing a part: prefix, src, range. */
const SEALED_HEAD_BOUND = 256;

/** Bytes of the lines from block `bi`, line `j` on, up to the one that reaches `room`: the most a part of them can take. */
function partBound(blocks: readonly EntryBlock[], bi: number, j: number, room: number): number {
  let n = 0;
  for (; bi < blocks.length; bi++, j = 0) {
    const { starts, ends, count, units } = blocks[bi]!;
    for (; j < count; j++) {
      // A unit's line: its head (estimated; room() grows the buffer for a longer src) and base64.
      n += units ? SEALED_HEAD_BOUND + base64Length(ends[j]! - starts[j]!) + 1 : ends[j]! - starts[j]! + 1;
      if (n >= room) return n;
    }
  }
  return n;
}
