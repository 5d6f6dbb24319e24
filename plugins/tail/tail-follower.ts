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
import { realpath } from 'node:fs/promises';
import { nowNs, type LineBlock } from '../../core/index.js';
import { BufferPool } from '../../core/buffer-pool.js';
import { OffsetDb } from './tail-db.js';
import { Discovery } from './tail-discover.js';
import { Truncation } from './tail-truncate.js';
import { F_INVALID_UTF8, F_LONG_START, F_TRUNCATED, scanLines } from './tail-lines.js';
import type { PathSet } from './tail-scan.js';
import { HEAD_MAX, TailFile } from './tail-file.js';
import type { CommitQueue } from './tail-commit.js';
import { Watching } from './tail-watch.js';

/** Free read buffers kept for reuse. */
const POOL_KEEP = 8;

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
  /** Minimum time between state writes (default 1000 ms). */
  stateIntervalMs?: number;
  /**
   * How long a new file that starts like a followed one (a copytruncate copy that `paths`
   * matches, seen before the truncation) waits for that truncation before it is read as a
   * file of its own (default 10 s).
   */
  copyWaitMs?: number;
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
  ready(): Promise<void>;
  count(name: string, n?: number): void;
  /** Set a gauge (optional). */
  gauge?(name: string, value: number): void;
  log: FollowerLog;
}

export class Follower {
  /** Open files by device:inode. */
  readonly files = new Map<string, TailFile>();
  /** Active files by matched path and by real path (where watch events name them). */
  readonly byPath = new Map<string, TailFile>();
  readonly db: OffsetDb;
  readonly discovery: Discovery;
  readonly truncation: Truncation;
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
  /** The read buffer; handed to a LineBlock with the lines read into it (see emitBatch). */
  private buf: Buffer;
  private readonly pool: BufferPool;
  private readonly scratch = Buffer.allocUnsafe(HEAD_MAX);
  /** Line offsets of the batch being split (grown as needed, copied into each block). */
  private readonly lines = new LineScratch();
  private refreshTimer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  readonly watching: Watching;

  constructor(
    readonly opts: FollowerOptions,
    readonly sink: FollowerSink,
  ) {
    this.pool = new BufferPool(Math.max(opts.readSize, opts.maxLine + 1), POOL_KEEP);
    this.buf = this.pool.acquire();
    this.db = new OffsetDb(opts.statePath, opts.stateIntervalMs ?? 1000, (err, what) => sink.log.error({ err }, what));
    this.discovery = new Discovery(this);
    this.truncation = new Truncation(this);
    this.watching = new Watching(this);
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
  }

  /** Stop reading and release files and watches. Settlements still commit (see close()). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopSignal();
    this.wake();
    await this.loopDone;
    clearInterval(this.refreshTimer);
    clearInterval(this.ticker);
    this.watching.close();
    for (const f of this.files.values()) await f.close();
  }

  /** stop(), then write the state; offsets of chunks settling later are written at once. */
  async close(): Promise<void> {
    await this.stop();
    await this.db.close();
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  markDirty(f: TailFile): void {
    this.dirty.add(f);
    this.wake();
  }

  /** Glob the patterns again (a directory event without a name). */
  rescan(): void {
    this.scanDue = true;
    this.wake();
  }

  /** A path needs a re-stat (rotation, deletion, new file). */
  check(path: string): void {
    this.toCheck.add(path);
    this.wake();
  }

  updateWatches(): void {
    if (!this.stopping) this.watching.update();
  }

  get mode(): 'inotify' | 'poll' {
    return this.watching.mode;
  }

  /**
   * While files are gone (renamed away or deleted), waiting for a predecessor, or downstream is
   * full: every tick, re-read the gone ones and probe the waiting ones for truncation.
   */
  ensureTicker(): void {
    if (this.ticker || this.stopping) return;
    this.ticker = setInterval(() => {
      let any = this.blocked;
      for (const f of this.files.values()) {
        if (f.state !== 'gone') continue;
        any = true;
        this.dirty.add(f);
      }
      if (!any) {
        clearInterval(this.ticker);
        this.ticker = undefined;
      }
      this.probeDue = true;
      this.wake();
    }, Math.min(this.opts.pollMs, 250));
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
          for (const f of [...this.dirty]) if (this.blocked || gated(f)) await this.truncation.probe(f);
          continue;
        }
        const f = this.blocked ? undefined : this.nextDirty();
        if (f) {
          await this.service(f);
          continue;
        }
        await new Promise<void>((r) => (this.wakeUp = r));
      } catch (err) {
        this.sink.count('errors');
        this.sink.log.error({ err }, 'tail loop error');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private nextDirty(): TailFile | undefined {
    for (const f of this.dirty) {
      if (gated(f)) continue;
      f.after = undefined; // do not keep a chain of closed predecessors alive
      this.dirty.delete(f);
      return f;
    }
    return undefined;
  }

  /** One read of one file: emit its complete lines, or handle EOF / truncation / close. */
  private async service(f: TailFile): Promise<void> {
    if (f.closed) return;
    if (f.savedSrc !== f.src) {
      // A new byte stream (a new file, or a truncation): its identity is saved before any of its
      // records leaves. Otherwise a crash before the next coalesced state write would give the
      // file a new random src at the restart (its lines read again under it: duplicates
      // downstream), or lose track of it if it was rotated away meanwhile (its unread end lost).
      this.commit(f);
      await this.db.save();
      f.savedSrc = f.src;
    }
    const finishing = f.state === 'gone' && f.drainedSinceGone && Date.now() - f.goneAt >= this.opts.rotateWaitMs;
    let n: number;
    try {
      n = await f.read(this.buf, this.buf.length);
      if (n === 0) {
        const size = await f.fsize();
        if (size < f.offset) return await this.truncation.handle(f, 'size');
        // Woken with nothing new: the content may have been replaced by exactly as many bytes
        // (copytruncate, then a write of the same length, then silence). The head tells.
        if (size === f.offset && f.offset > 0 && f.state === 'active' && (await f.checkHead(this.scratch)) === 'changed')
          return await this.truncation.handle(f, 'fingerprint');
      } else if (f.state === 'active') {
        // Content replaced under us (copytruncate, then the file grew past our offset; or
        // replaced before we read anything)? The batch is then dropped and the copy looked for.
        const blind = f.head.length === 0 && f.offset === 0;
        const head = f.offset === 0 ? f.headOfRead(this.buf, n) : await f.checkHead(this.scratch);
        if (head === 'changed') return await this.truncation.handle(f, 'fingerprint');
        // The first bytes of a generation we knew nothing of: if generations truncated before it
        // left copies, those are read first (this batch is read again after them).
        if (blind && (await this.discovery.adoptUnseen(f)) > 0) return;
        // A new file that was empty when it showed up: a copytruncate copy being filled?
        if (blind && !f.copy && (await this.discovery.deferIfCopy(f, f.path))) return;
      }
      f.errors = 0;
    } catch (err) {
      f.errors++;
      this.sink.count('read_errors');
      if (f.errors === 1) this.sink.log.warn({ err, path: f.path }, 'read error; retrying on the next event');
      return;
    }
    const atEof = n < this.buf.length;
    if (n > 0) f.partial = this.emitBatch(f, n, finishing && atEof) < n;
    else f.partial = false;
    if (!atEof) {
      this.dirty.add(f);
      return;
    }
    f.drainedSinceGone = true;
    if (f.state === 'gone' && finishing) await this.finish(f);
  }

  /**
   * Emit the complete lines of buf[0, n) as one LineBlock (their bytes copied once, no string
   * or object per line); returns the bytes consumed.
   */
  private emitBatch(f: TailFile, n: number, final: boolean): number {
    let long = 0;
    let invalid = 0;
    let count = 0;
    let anyFlags = 0;
    const sc = this.lines;
    const st = scanLines(this.buf, n, f.offset, this.opts.maxLine, f.inLong, final, (start, end, seq, flags) => {
      if (count === sc.starts.length) sc.grow();
      sc.starts[count] = start;
      sc.ends[count] = end;
      sc.seqs[count] = seq - f.offset;
      const fl = flags & (F_TRUNCATED | F_INVALID_UTF8);
      sc.flags[count] = fl;
      anyFlags |= fl;
      if (flags & F_LONG_START) long++;
      if (flags & F_INVALID_UTF8) invalid++;
      count++;
    });
    if (st.consumed === 0) return 0;
    const base = f.offset;
    f.offset += st.consumed;
    f.inLong = st.inLong;
    this.sink.count('read_bytes', st.consumed);
    if (long) this.sink.count('long_lines', long);
    if (invalid) this.sink.count('invalid_utf8_lines', invalid);
    const queue = f.queue;
    const ticket = queue.push(f.offset);
    if (count === 0) {
      this.settled(queue, ticket);
      return st.consumed;
    }
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
    const block: LineBlock = {
      buf,
      count,
      starts: sc.starts.slice(0, count),
      ends: sc.ends.slice(0, count),
      seqs: sc.seqs.slice(0, count),
      base,
      flags: anyFlags ? sc.flags.slice(0, count) : undefined,
      ascii: st.ascii,
      time: nowNs(),
      path: f.path,
      src: f.src,
      pathKey: this.opts.pathKey,
    };
    const onSettled = () => {
      if (pooled) this.pool.release(buf);
      this.settled(queue, ticket);
    };
    if (!this.sink.emitLines(f.tag, block, st.consumed, onSettled)) this.block();
    return st.consumed;
  }

  /** A chunk settled: move the committed offset of the stream that owns the queue. */
  private settled(queue: CommitQueue<TailFile>, ticket: number): void {
    if (!queue.settle(ticket)) return;
    const f = queue.owner;
    if (!f || f.queue !== queue) return;
    this.commit(f);
  }

  commit(f: TailFile): void {
    const cur = this.db.get(f.key);
    if (f.finished) {
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
    if (f.copy && this.opts.paths.matches(f.realPath) && (await this.discovery.keepAsOwn(f))) return;
    f.finished = true;
    await f.close();
    this.dirty.delete(f);
    if (this.files.get(f.key) === f) this.files.delete(f.key);
    for (const p of [f.path, f.realPath]) if (this.byPath.get(p) === f) this.byPath.delete(p);
    this.discovery.forget(f);
    this.sink.count('files_closed');
    this.sink.gauge?.('files_open', this.files.size);
    this.sink.log.info({ path: f.path, offset: f.offset, src: f.src, real: f.realPath }, 'closed rotated file (read to its end)');
    this.commit(f);
  }

  async resolveReal(path: string): Promise<string> {
    return realpath(path).catch(() => path);
  }

  get isStopping(): boolean {
    return this.stopping;
  }
}

/**
 * Must `f` wait for the file it replaced (read to its end, unterminated last line included)?
 * A predecessor followed again under another name `path` matches (app.log -> app.log.1 with
 * `app.log*`) is a file of its own again: `f` waits until it was read to its end once (its
 * unterminated last line then waits for its newline there, not here).
 */
function gated(f: TailFile): boolean {
  const a = f.after;
  return !!a && !a.closed && (!a.drainedSinceGone || (a.partial && a.state === 'gone'));
}

/** Growable per-line arrays for splitting one batch. */
class LineScratch {
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
