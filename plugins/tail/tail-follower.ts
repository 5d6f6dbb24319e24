/**
 * The tail engine, independent of the qlog core: follows the files a PathSet names, hands
 * batches of line records to a sink, and commits offsets when the sink reports them settled.
 *
 * One async loop does all file work, in this order: rescan globs when due, re-check paths
 * named by watch events, probe waiting files for truncation, then read one batch from the next
 * dirty file (round robin) unless downstream is full (then only the structural work goes on:
 * the file is the buffer, and rotations meanwhile are still noticed). Nothing is read in
 * parallel, so one read buffer serves every file and memory does not grow with their number.
 */
import { nowNs, type LineBlock, type LogRecord } from '../../core/index.js';
import { chunkBytes } from '../../core/record.js';
import { BufferPool } from '../../core/buffer-pool.js';
import type { CommitQueue } from './tail-commit.js';
import { Copytruncate } from './tail-copytruncate.js';
import { OffsetDb } from './tail-db.js';
import { Discovery } from './tail-discover.js';
import { HEAD_MAX, type TailFile } from './tail-file.js';
import { FollowedFiles } from './tail-followed.js';
import { Phase } from './tail-lifecycle.js';
import { F_INVALID_UTF8, F_LONG_START, F_TRUNCATED, LineScratch, scanLines, type SplitState, splitInto } from './tail-lines.js';
import { expandTag, type PathSet } from './tail-scan.js';
import { type Joined, TailJoiner, type TailMultilineOptions } from './tail-multiline.js';
import { RotationSummary } from './tail-summary.js';
import { Watching } from './tail-watch.js';

/** Pooled buffers for a block's per-line arrays: 13 bytes a line, ~5,000 lines. */
const ARRAYS_SIZE = 64 * 1024;
/** Bytes of free read buffers kept for reuse (at least two buffers). */
const POOL_KEEP_BYTES = 2 * 1024 * 1024;

export interface FollowerOptions {
  paths: PathSet;
  /** Tag, '*' expanded per file. */
  tag: string;
  readFromHead: boolean;
  rotateWaitMs: number;
  refreshMs: number;
  /** Bytes per read (buffer_chunk_size). */
  readSize: number;
  /** Longest line (buffer_max_size); longer lines are split. */
  maxLine: number;
  /** 0 = off. */
  ignoreOlderMs: number;
  watcher: 'auto' | 'inotify' | 'poll';
  pollMs: number;
  /** When set, meta[pathKey] = path as well as meta.path. */
  pathKey: string;
  statePath: string;
  /** How long the offset of a file no start found is kept (0: forever; default 7 days). */
  offsetsExpireMs?: number;
  /** How often rotation activity is summed up at info (default 60 s). */
  summaryMs?: number;
  /** How often a `path` that finds nothing is warned about again (default 60 s). */
  missingWarnMs?: number;
  /** Minimum time between state writes (default 1000 ms). */
  stateIntervalMs?: number;
  /**
   * How long a new file that starts like a followed one (a copytruncate copy that `paths`
   * matches, seen before the truncation) waits for that truncation before it is read as a
   * file of its own (default 10 s).
   */
  copyWaitMs?: number;
  /** Join lines into multiline records before they leave (tail's `multiline` option). */
  multiline?: TailMultilineOptions;
}

type LogFn = (obj: object, msg: string) => void;
export interface FollowerLog {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export interface FollowerSink {
  /** Hand over one batch of one file; false = downstream is full, stop until ready(). */
  emitLines(tag: string, block: LineBlock, bytes: number, onSettled: () => void): boolean;
  /** Hand over records (multiline: joined lines); false = downstream is full. Needed with `multiline`. */
  emitRecords?(tag: string, records: LogRecord[], bytes: number, onSettled: () => void): boolean;
  ready(): Promise<void>;
  count(name: string, n?: number): void;
  /** Set a gauge (optional). */
  gauge?(name: string, value: number): void;
  log: FollowerLog;
}

export class Follower {
  private readonly followed = new FollowedFiles();
  /** Open files by device:inode. */
  readonly files = this.followed.byKey;
  /** Active files by matched path and by real path (where watch events name them). */
  readonly byPath = this.followed.byPath;
  readonly db: OffsetDb;
  private readonly copies: Copytruncate;
  private readonly discovery: Discovery;
  private readonly watching: Watching;
  private readonly summary: RotationSummary;
  private readonly dirty = new Set<TailFile>();
  private readonly toCheck = new Set<string>();
  private scanDue = false;
  private probeDue = false;
  private blocked = false;
  private stopping = false;
  private stopSignal!: () => void;
  private readonly stopped = new Promise<void>((r) => (this.stopSignal = r));
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  /** The read buffer; handed to a LineBlock with the lines read into it (see sendBlock). */
  private buf: Buffer;
  private readonly pool: BufferPool;
  /** Line offsets of the batch being split (grown as needed, copied into each block). */
  private readonly lines = new LineScratch();
  /**
   * Per-line arrays of the blocks sent downstream, one buffer a block, given back when its chunk
   * settled. As typed arrays of their own they were garbage that only a GC freed (~50 KB per
   * 512 KiB read), and they piled up as external memory between collections.
   */
  private readonly arrays = new BufferPool(ARRAYS_SIZE, 8);
  /** Where readThenHead re-reads a file's head. */
  private readonly headScratch = Buffer.allocUnsafe(HEAD_MAX);
  /** Runs of plain lines split by the addon straight into `lines` (undefined without it). */
  private readonly bulk = splitInto(this.lines);
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Joins lines into multiline records (the `multiline` option), else undefined. */
  readonly joiner: TailJoiner | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    readonly opts: FollowerOptions,
    readonly sink: FollowerSink,
  ) {
    const size = Math.max(opts.readSize, opts.maxLine + 1);
    this.pool = new BufferPool(size, Math.max(2, Math.floor(POOL_KEEP_BYTES / size)));
    this.buf = this.pool.acquire();
    this.joiner = opts.multiline ? new TailJoiner(opts.multiline) : undefined;
    this.summary = new RotationSummary(sink.log, opts.summaryMs);
    this.db = new OffsetDb(opts.statePath, opts.stateIntervalMs ?? 1000, (err, what) => sink.log.error({ err }, what));
    // Each collaborator gets only the operations it needs.
    const files = this.followed;
    const base = {
      files,
      log: sink.log,
      count: (name: string) => this.count(name),
      commit: (f: TailFile) => this.commit(f),
      markDirty: (f: TailFile) => this.markDirty(f),
      track: (f: TailFile) => this.track(f),
    };
    const copyHost = {
      ...base,
      matches: (p: string) => opts.paths.matches(p),
      tagFor: (p: string) => expandTag(opts.tag, p),
      drop: (f: TailFile) => this.drop(f),
    };
    this.copies = new Copytruncate(copyHost, opts.copyWaitMs ?? 10_000);
    this.discovery = new Discovery(
      {
        ...base,
        db: this.db,
        copies: this.copies,
        gauge: (name, v) => sink.gauge?.(name, v),
        ensureTicker: () => this.ensureTicker(),
        updateWatches: () => this.updateWatches(),
      },
      opts,
    );
    const stopping = () => this.stopping;
    this.watching = new Watching(
      {
        get stopping() {
          return stopping();
        },
        log: sink.log,
        count: base.count,
        files: () => files.values(),
        atPath: (p) => files.atPath(p),
        markDirty: base.markDirty,
        check: (p) => this.check(p),
        rescan: () => this.rescan(),
      },
      opts,
    );
  }

  async start(): Promise<void> {
    await this.db.load();
    await this.watching.pickMode();
    await this.discovery.initial();
    this.updateWatches();
    this.refreshTimer = setInterval(() => {
      this.scanDue = true;
      this.wake();
    }, this.opts.refreshMs);
    this.loopDone = this.loop();
    this.summary.start();
    const j = this.joiner;
    if (j) {
      this.flushTimer = setInterval(
        () => {
          for (const out of j.flushIdle(performance.now())) this.sendJoined(out, undefined);
        },
        Math.min(1000, Math.max(25, j.flushMs / 4)),
      );
      this.flushTimer.unref();
    }
  }

  /** A counter, and the rotation summary's count of the same event. */
  private count(name: string, n?: number): void {
    this.sink.count(name, n);
    this.summary.add(name, n);
  }

  /** Stop reading and release files and watches. Settlements still commit (see close()). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopSignal();
    this.wake();
    await this.loopDone;
    clearInterval(this.refreshTimer);
    clearInterval(this.flushTimer);
    clearInterval(this.ticker);
    this.summary.stop();
    this.watching.close();
    for (const f of this.files.values()) await f.close();
  }

  /** stop(), then write the state; offsets of chunks settling later are written at once. */
  async close(): Promise<void> {
    await this.stop();
    await this.db.close();
  }

  get mode(): 'inotify' | 'poll' {
    return this.watching.mode;
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private markDirty(f: TailFile): void {
    this.dirty.add(f);
    this.wake();
  }

  /** Glob the patterns again (a directory event without a name). */
  private rescan(): void {
    this.scanDue = true;
    this.wake();
  }

  /** A path needs a re-stat (rotation, deletion, new file). */
  private check(path: string): void {
    this.toCheck.add(path);
    this.wake();
  }

  private updateWatches(): void {
    if (!this.stopping) this.watching.update();
  }

  /** `f` continues a stream (gone from its start): follow it to its end. */
  private track(f: TailFile): void {
    this.followed.add(f);
    this.commit(f);
    this.markDirty(f);
    this.ensureTicker();
  }

  /** Stop following `f` as a file of its own, forgetting it (it has not emitted anything). */
  private async drop(f: TailFile): Promise<void> {
    await f.close();
    if (this.followed.remove(f)) this.db.delete(f.key);
  }

  /**
   * While files are gone (renamed away or deleted), waiting for a predecessor, or downstream is
   * full: every tick, re-read the gone ones and probe the waiting ones for truncation.
   */
  private ensureTicker(): void {
    if (this.ticker || this.stopping) return;
    this.ticker = setInterval(() => this.tick(), Math.min(this.opts.pollMs, 250));
  }

  private tick(): void {
    let any = this.blocked;
    for (const f of this.files.values()) {
      if (!f.gone) continue;
      any = true;
      this.dirty.add(f);
    }
    if (!any) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
    this.probeDue = true;
    this.wake();
  }

  /** Downstream is full: read nothing until it has room (the file is the buffer). */
  private block(): void {
    if (this.blocked) return;
    this.blocked = true;
    this.ensureTicker();
    void Promise.race([this.sink.ready(), this.stopped]).then(() => {
      this.blocked = false;
      this.wake();
    });
  }

  private async loop(): Promise<void> {
    // Structural work (new files, rotations, truncations) goes on while reading waits.
    while (!this.stopping) {
      try {
        if (this.scanDue) {
          this.scanDue = false;
          await this.discovery.refresh();
          continue;
        }
        if (this.toCheck.size) {
          const paths = [...this.toCheck];
          this.toCheck.clear();
          for (const p of paths) await this.discovery.checkPath(p);
          this.updateWatches();
          continue;
        }
        if (this.probeDue) {
          this.probeDue = false;
          for (const f of [...this.dirty]) if (this.blocked || f.gated) await this.copies.probe(f);
          continue;
        }
        const f = this.blocked ? undefined : this.nextDirty();
        if (f) {
          await this.service(f);
          continue;
        }
        await new Promise<void>((r) => (this.wakeUp = r));
      } catch (err) {
        this.count('errors');
        this.sink.log.error({ err }, 'tail loop error');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private nextDirty(): TailFile | undefined {
    for (const f of this.dirty) {
      if (f.gated) continue;
      f.after = undefined; // do not keep a chain of closed predecessors alive
      this.dirty.delete(f);
      return f;
    }
    return undefined;
  }

  /** One read of one file: emit its complete lines, or handle EOF / truncation / close. */
  private async service(f: TailFile): Promise<void> {
    if (!f.open) return;
    const finishing = f.finishing(Date.now(), this.opts.rotateWaitMs);
    const n = await this.readChecked(f);
    if (n === undefined) return;
    if (n > 0) f.identify(); // the first line may be known now (a read from 0 extends the head)
    if (f.savedSrc !== f.src && n > 0) await this.saveStream(f);
    const atEof = n < this.buf.length;
    if (n > 0) f.partial = this.emitBatch(f, n, finishing && atEof) < n;
    else f.partial = false;
    if (!atEof) {
      this.dirty.add(f);
      return;
    }
    f.to('eof');
    if (finishing) await this.finish(f);
  }

  /**
   * A new byte stream (a new file, or a truncation): its identity is saved before any of its
   * records leaves. Otherwise a crash before the next coalesced state write would lose track
   * of it if it was rotated away meanwhile (its unread end lost), or give a stream whose src
   * is not derived from the file alone (a new generation) another src at the restart (its
   * lines read again under it: duplicates downstream).
   */
  private async saveStream(f: TailFile): Promise<void> {
    if (f.saving) await f.saving; // the write of a file found while running may have saved this src
    if (f.savedSrc === f.src) return;
    this.commit(f);
    await this.db.save();
    f.savedSrc = f.src;
  }

  /**
   * Read the next batch of `f` into the read buffer: its length, or undefined when nothing is
   * to be emitted (a truncation or copy was handled instead, or the read failed).
   */
  private async readChecked(f: TailFile): Promise<number | undefined> {
    try {
      // Past the head of a followed file, the head is re-read after each read: with the addon, in
      // the same thread-pool job.
      const both = f.following && f.offset > 0 ? f.readThenHead(this.buf, this.buf.length, this.headScratch) : undefined;
      const r = both ? await both : undefined;
      const n = r ? r.n : await f.read(this.buf, this.buf.length);
      if (await this.copies.replaced(f, this.buf, n, r?.head)) return undefined;
      f.errors = 0;
      return n;
    } catch (err) {
      f.errors++;
      this.count('read_errors');
      if (f.errors === 1) this.sink.log.warn({ err, path: f.path }, 'read error; retrying on the next event');
      return undefined;
    }
  }

  /**
   * Emit the complete lines of buf[0, n) as one LineBlock (their bytes copied once, no string
   * or object per line); returns the bytes consumed.
   */
  private emitBatch(f: TailFile, n: number, final: boolean): number {
    let long = 0;
    let invalid = 0;
    let anyFlags = 0;
    const sc = this.lines;
    sc.count = 0;
    const st = scanLines(
      this.buf,
      n,
      f.offset,
      this.opts.maxLine,
      f.inLong,
      final,
      (start, end, seq, flags) => {
        const i = sc.count;
        if (i === sc.starts.length) sc.grow();
        sc.starts[i] = start;
        sc.ends[i] = end;
        sc.seqs[i] = seq - f.offset;
        const fl = flags & (F_TRUNCATED | F_INVALID_UTF8);
        sc.flags[i] = fl;
        anyFlags |= fl;
        if (flags & F_LONG_START) long++;
        if (flags & F_INVALID_UTF8) invalid++;
        sc.count = i + 1;
      },
      this.bulk && ((view, from, to, maxLine, base) => this.bulk!(view, from, to, maxLine, base - f.offset)),
    );
    const count = sc.count;
    if (st.consumed === 0) return 0;
    if (count > 0 && !f.sidFixed) {
      // Records leave before the first line is whole (an unterminated last line at a close, or a
      // piece of a long line): the id takes the bytes known now.
      f.identify(true);
      this.commit(f);
    }
    f.offset += st.consumed;
    f.inLong = st.inLong;
    this.count('read_bytes', st.consumed);
    if (long) this.count('long_lines', long);
    if (invalid) this.count('invalid_utf8_lines', invalid);
    if (this.joiner) {
      // The records are built now (strings copied): the read buffer stays ours.
      const block = this.lineBlock(f, this.buf, st, count, anyFlags);
      this.sendJoined(this.joiner.lines(f, block, f.tag), st.consumed);
      return st.consumed;
    }
    const queue = f.queue;
    const ticket = queue.push(f.offset);
    if (count === 0) this.settled(queue, ticket);
    else this.sendBlock(f, st, count, anyFlags, ticket);
    return st.consumed;
  }

  /** Hand the `count` lines just scanned (ending at f.offset) downstream as one LineBlock. */
  private sendBlock(f: TailFile, st: SplitState, count: number, anyFlags: number, ticket: number): void {
    const queue = f.queue;
    // A big batch takes the read buffer itself (a fresh one from the pool reads next; this one
    // returns to the pool when the chunk settled); a small one is copied to its own buffer.
    let buf: Buffer;
    let pooled = false;
    if (st.consumed * 4 >= this.buf.length) {
      buf = this.buf;
      this.buf = this.pool.acquire();
      pooled = true;
    } else {
      buf = Buffer.allocUnsafe(st.consumed);
      this.buf.copy(buf, 0, 0, st.consumed);
    }
    // The block's per-line arrays in one buffer, also given back when the chunk settled.
    const arrays = this.arrays.take(count * 13 + 3).buf;
    const block = this.lineBlock(f, buf, st, count, anyFlags, arrays);
    const onSettled = () => {
      if (pooled) this.pool.recycle(buf);
      this.arrays.recycle(arrays);
      this.settled(queue, ticket);
    };
    if (!this.sink.emitLines(f.tag, block, st.consumed, onSettled)) this.block();
  }

  /**
   * The `count` lines just scanned (ending at f.offset) as a LineBlock over `buf`; its per-line
   * arrays in `store` (count * 13 + 3 bytes) when given, else arrays of their own.
   */
  private lineBlock(f: TailFile, buf: Buffer, st: SplitState, count: number, anyFlags: number, store?: Buffer): LineBlock {
    const sc = this.lines;
    let starts: Uint32Array;
    let ends: Uint32Array;
    let seqs: Uint32Array;
    let flags: Uint8Array | undefined;
    if (store) {
      const ab = store.buffer;
      const o = (store.byteOffset + 3) & ~3;
      starts = new Uint32Array(ab, o, count);
      ends = new Uint32Array(ab, o + 4 * count, count);
      seqs = new Uint32Array(ab, o + 8 * count, count);
      starts.set(sc.starts.subarray(0, count));
      ends.set(sc.ends.subarray(0, count));
      seqs.set(sc.seqs.subarray(0, count));
      if (anyFlags) (flags = new Uint8Array(ab, o + 12 * count, count)).set(sc.flags.subarray(0, count));
    } else {
      starts = sc.starts.slice(0, count);
      ends = sc.ends.slice(0, count);
      seqs = sc.seqs.slice(0, count);
      flags = anyFlags ? sc.flags.slice(0, count) : undefined;
    }
    return {
      buf,
      count,
      starts,
      ends,
      seqs,
      base: f.offset - st.consumed,
      flags,
      ascii: st.ascii,
      time: nowNs(),
      path: f.path,
      src: f.src,
      pathKey: this.opts.pathKey,
    };
  }

  /**
   * Hand joined records downstream; their chunk commits `j.end` (never past the start of a
   * record still held) once it settles. Nothing to send: the commit moves at once.
   */
  private sendJoined(j: Joined, bytes: number | undefined): void {
    const queue = j.file.queue;
    const ticket = queue.push(j.end);
    const c = this.joiner!.counts;
    if (c.joined || c.truncated || c.overBudget || c.bypassed) {
      if (c.joined) this.count('multiline_records', c.joined);
      if (c.truncated) this.count('multiline_truncated', c.truncated);
      if (c.overBudget) this.count('multiline_over_budget', c.overBudget);
      if (c.bypassed) this.count('multiline_bypassed', c.bypassed);
      c.joined = c.truncated = c.overBudget = c.bypassed = 0;
    }
    if (j.records.length === 0) return this.settled(queue, ticket);
    const ok = this.sink.emitRecords!(j.file.tag, j.records, bytes ?? chunkBytes(j.records), () => this.settled(queue, ticket));
    if (!ok) this.block();
  }

  /** A chunk settled: move the committed offset of the stream that owns the queue. */
  private settled(queue: CommitQueue<TailFile>, ticket: number): void {
    if (!queue.settle(ticket)) return;
    const f = queue.owner;
    if (!f || f.queue !== queue) return;
    this.commit(f);
  }

  private commit(f: TailFile): void {
    const cur = this.db.get(f.key);
    if (f.phase === Phase.Finished) {
      // A finished file leaves the state once all its data settled. (Files closed because the
      // agent stops keep their entry: their settlements during the drain must not delete it.)
      if (cur && cur.sid === f.sid && f.queue.pending === 0) this.db.delete(f.key);
      else if (cur && cur.sid === f.sid) this.db.set(f.key, f.entry());
      return;
    }
    this.db.set(f.key, f.entry());
  }

  /** Rotated-away / deleted file: fully read, rotate_wait passed: close it. */
  private async finish(f: TailFile): Promise<void> {
    if (await this.copies.keepAsOwn(f)) return;
    const held = this.joiner?.finish(f);
    if (held) this.sendJoined(held, undefined);
    await f.finish();
    this.dirty.delete(f);
    this.followed.remove(f);
    this.discovery.forget(f);
    this.count('files_closed');
    this.sink.gauge?.('files_open', this.files.size);
    this.sink.log.debug({ path: f.path, offset: f.offset, src: f.src, real: f.realPath }, 'closed rotated file (read to its end)');
    this.commit(f);
  }
}
