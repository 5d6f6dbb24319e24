/**
 * The tail engine, independent of the qlog core: follows the files a PathSet names, hands
 * batches of line records to a sink, and commits offsets when the sink reports them settled.
 *
 * One async loop does all file work, in this order: wait while downstream is full (the file
 * is the buffer), rescan globs when due, re-check paths named by watch events, then read one
 * batch from the next dirty file (round robin). Nothing is read in parallel, so a single
 * read buffer serves every file and memory does not grow with the number of files.
 */
import { realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import { nowNs, type LogRecord, type RecordMeta } from '../../core/index.js';
import { OffsetDb } from './tail-db.js';
import { Discovery, type Stream } from './tail-discover.js';
import { F_INVALID_UTF8, F_LONG_START, F_TRUNCATED, splitLines } from './tail-lines.js';
import type { PathSet } from './tail-scan.js';
import { HEAD_MAX, TailFile } from './tail-file.js';
import type { CommitQueue } from './tail-commit.js';
import { InotifyWatcher, eventlessFs } from './tail-watch-inotify.js';
import { PollWatcher } from './tail-watch-poll.js';

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
  emit(tag: string, records: LogRecord[], bytes: number, onSettled: () => void): boolean;
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
  private readonly dirty = new Set<TailFile>();
  private readonly toCheck = new Set<string>();
  private scanDue = false;
  private blocked = false;
  private stopping = false;
  private stopSignal!: () => void;
  private readonly stopped = new Promise<void>((r) => (this.stopSignal = r));
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private readonly buf: Buffer;
  private readonly scratch = Buffer.allocUnsafe(HEAD_MAX);
  private inotify: InotifyWatcher | undefined;
  private poll: PollWatcher | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private goneTimer: NodeJS.Timeout | undefined;
  private readonly watchWarned = new Set<string>();
  mode: 'inotify' | 'poll' = 'inotify';

  constructor(
    readonly opts: FollowerOptions,
    readonly sink: FollowerSink,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(opts.readSize, opts.maxLine + 1));
    this.db = new OffsetDb(opts.statePath, opts.stateIntervalMs ?? 1000, (err, what) => sink.log.error({ err }, what));
    this.discovery = new Discovery(this);
  }

  async start(): Promise<void> {
    await this.db.load();
    this.mode = await this.pickMode();
    await this.discovery.initial();
    this.updateWatches();
    this.refreshTimer = setInterval(() => {
      this.scanDue = true;
      this.wake();
    }, this.opts.refreshMs);
    this.loopDone = this.loop();
  }

  private async pickMode(): Promise<'inotify' | 'poll'> {
    const w = this.opts.watcher;
    if (w !== 'auto') return w;
    for (const dir of this.opts.paths.baseDirs) {
      const fs = await eventlessFs(dir);
      if (fs) {
        this.sink.log.info({ dir, fs }, `${fs} gives no change events: polling every ${this.opts.pollMs} ms`);
        return 'poll';
      }
    }
    return 'inotify';
  }

  /** Stop reading and release files and watches. Settlements still commit (see close()). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopSignal();
    this.wake();
    await this.loopDone;
    clearInterval(this.refreshTimer);
    clearInterval(this.goneTimer);
    this.inotify?.close();
    this.poll?.close();
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

  /** A path needs a re-stat (rotation, deletion, new file). */
  check(path: string): void {
    this.toCheck.add(path);
    this.wake();
  }

  private onEvent = (dir: string, name: string | null, kind: 'rename' | 'change'): void => {
    if (this.stopping) return;
    if (name === null) {
      this.scanDue = true;
      this.wake();
      return;
    }
    const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
    const f = this.byPath.get(p);
    if (f) {
      this.markDirty(f);
      if (kind === 'rename') this.check(f.path);
    } else if (this.opts.paths.matches(p)) this.check(p);
  };

  /** Watch the directories of followed files and of the patterns (or poll the files). */
  updateWatches(): void {
    if (this.stopping) return;
    if (this.mode === 'poll') {
      this.poll ??= new PollWatcher(this.opts.pollMs, this.onEvent);
      this.poll.set([...this.files.values()].filter((f) => f.state === 'active').map((f) => f.path));
      return;
    }
    this.inotify ??= new InotifyWatcher(this.onEvent, (dir, err) => {
      this.sink.count('watch_errors');
      if (this.watchWarned.has(dir)) return;
      this.watchWarned.add(dir);
      this.sink.log.warn({ dir, err }, 'cannot watch directory; its files are re-checked every refresh_interval');
      if (this.opts.watcher === 'auto' && this.mode === 'inotify') {
        this.sink.log.warn({}, `falling back to polling every ${this.opts.pollMs} ms`);
        this.mode = 'poll';
        this.inotify?.close();
        this.updateWatches();
      }
    });
    const dirs = new Set(this.opts.paths.baseDirs);
    for (const f of this.files.values()) {
      if (f.state !== 'active') continue;
      dirs.add(dirname(f.path));
      dirs.add(dirname(f.realPath));
    }
    this.inotify.set(dirs);
  }

  /** Poll files that were renamed away or deleted until they are closed. */
  ensureGoneTimer(): void {
    if (this.goneTimer || this.stopping) return;
    this.goneTimer = setInterval(() => {
      let any = false;
      for (const f of this.files.values()) {
        if (f.state !== 'gone') continue;
        any = true;
        this.dirty.add(f);
      }
      if (!any) {
        clearInterval(this.goneTimer);
        this.goneTimer = undefined;
      }
      this.wake();
    }, Math.min(this.opts.pollMs, 250));
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        if (this.blocked) {
          await Promise.race([this.sink.ready(), this.stopped]);
          this.blocked = false;
          continue;
        }
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
        const f = this.nextDirty();
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
      const a = f.after;
      if (a) {
        // Finish the rotated file first (its unterminated last line too: that waits rotate_wait).
        if (!a.closed && (!a.drainedSinceGone || a.partial)) continue;
        f.after = undefined; // do not keep a chain of closed predecessors alive
      }
      this.dirty.delete(f);
      return f;
    }
    return undefined;
  }

  /** One read of one file: emit its complete lines, or handle EOF / truncation / close. */
  private async service(f: TailFile): Promise<void> {
    if (f.closed) return;
    const finishing = f.state === 'gone' && f.drainedSinceGone && Date.now() - f.goneAt >= this.opts.rotateWaitMs;
    let n: number;
    try {
      n = await f.read(this.buf, this.buf.length);
      if (n === 0) {
        if ((await f.fsize()) < f.offset) return await this.truncated(f, 'size');
      } else if (f.state === 'active' && (f.offset > 0 || f.head.length < HEAD_MAX)) {
        // Content replaced under us (copytruncate, then the file grew past our offset)?
        if ((await f.checkHead(this.scratch)) === 'changed') return await this.truncated(f, 'fingerprint');
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
    if (f.state === 'gone') {
      f.drainedSinceGone = true;
      if (finishing) await this.finish(f);
    }
  }

  /** Emit the complete lines of buf[0, n); returns the bytes consumed. */
  private emitBatch(f: TailFile, n: number, final: boolean): number {
    const time = nowNs();
    const records: LogRecord[] = [];
    const { tag, path, src } = f;
    const pathKey = this.opts.pathKey;
    let long = 0;
    let invalid = 0;
    const st = splitLines(this.buf, n, f.offset, this.opts.maxLine, f.inLong, final, (body, seq, flags) => {
      const meta: RecordMeta = { path, src, seq };
      if (pathKey) meta[pathKey] = path;
      if (flags !== 0) {
        if (flags & F_TRUNCATED) meta.truncated = true;
        if (flags & F_LONG_START) long++;
        if (flags & F_INVALID_UTF8) {
          meta.invalid_utf8 = true;
          invalid++;
        }
      }
      records.push({ time, tag, body, meta });
    });
    if (st.consumed === 0) return 0;
    f.offset += st.consumed;
    f.inLong = st.inLong;
    this.sink.count('read_bytes', st.consumed);
    if (long) this.sink.count('long_lines', long);
    if (invalid) this.sink.count('invalid_utf8_lines', invalid);
    const queue = f.queue;
    const ticket = queue.push(f.offset);
    if (records.length === 0) this.settled(queue, ticket);
    else if (!this.sink.emit(tag, records, st.consumed, () => this.settled(queue, ticket))) this.blocked = true;
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
    if (f.closed) {
      // A finished file leaves the state once all its data settled.
      if (cur && cur.sid === f.sid && f.queue.pending === 0) this.db.delete(f.key);
      else if (cur && cur.sid === f.sid) this.db.set(f.key, f.entry());
      return;
    }
    this.db.set(f.key, f.entry());
  }

  /** The file shrank or its first bytes changed: recover the rest from the copy, restart at 0. */
  private async truncated(f: TailFile, why: 'size' | 'fingerprint'): Promise<void> {
    this.sink.count('truncations');
    const old: Stream = { path: f.path, sid: f.sid, gen: f.gen, offset: f.offset, inLong: f.inLong, queue: f.queue };
    const head = f.head;
    const copy = f.offset > 0 ? await this.discovery.adoptCopy(f.realPath, old, f.tag, (h) => h.equals(head), head.length) : undefined;
    if (!copy) old.queue!.owner = undefined; // that stream ends here; its late settlements change nothing
    this.sink.log.info(
      { path: f.path, offset: old.offset, why, copy: copy?.realPath },
      copy ? 'file truncated (copytruncate): reading the rest from the copy, then the file from its start' : 'file truncated: reading it from its start',
    );
    f.gen++;
    f.setSrc();
    f.head = await f.readHead();
    f.startAt(0);
    f.after = copy;
    this.commit(f);
    this.markDirty(f);
  }

  /** Rotated-away / deleted file: fully read, rotate_wait passed: close it. */
  private async finish(f: TailFile): Promise<void> {
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
