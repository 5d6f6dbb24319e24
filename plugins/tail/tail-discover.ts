/**
 * Finding files and deciding where to start reading them.
 *
 * Start position of a file we open:
 *  - known to the state file (same device:inode and fingerprint): its committed offset;
 *  - first start (no state file): read_from_head ? 0 : the start of its last line ... end;
 *  - restart: files created while we were stopped are read from their head (they are what a
 *    rotation left behind); files older than the state follow read_from_head;
 *  - appearing while we run: from the head, always.
 * A followed file that disappears from its path (rename or unlink) is kept open, read to its
 * end and closed rotate_wait after it went (see tail-follower.ts).
 */
import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { FileEntry } from './tail-db.js';
import { fileKey, hashHead, TailFile } from './tail-file.js';
import { findByKey, findCopy, findUnseen, stemOf } from './tail-find.js';
import type { Follower } from './tail-follower.js';
import { expandTag } from './tail-scan.js';
import type { CommitQueue } from './tail-commit.js';

/** A byte stream to continue in another file (a copytruncate copy, a file rotated while stopped). */
export interface Stream {
  path: string;
  sid: string;
  gen: number;
  offset: number;
  inLong: boolean;
  queue?: CommitQueue<TailFile>;
}

const LAST_LINE_WINDOW = 64 * 1024;
/** A file found this soon after its birth was created while we were watching. */
const FRESH_MS = 60_000;

export class Discovery {
  /** Files skipped by ignore_older: device:inode -> size then (start there if they wake up). */
  private readonly skipped = new Map<string, number>();
  /** Paths that could not be opened (warned once). */
  private readonly unreadable = new Set<string>();
  /** The file that last left each path: its successor is read once it is finished. */
  private readonly left = new Map<string, TailFile>();
  /** Copies (device:inode) waiting for the truncation of the file they copy: until when. */
  private readonly copies = new Map<string, number>();

  constructor(private readonly t: Follower) {}

  private get opts() {
    return this.t.opts;
  }

  async initial(): Promise<void> {
    for (const p of await this.opts.paths.scan()) await this.consider(p, true);
    await this.orphans();
  }

  /** refresh_interval pass: new files, vanished files, and a read of every file (missed events). */
  async refresh(): Promise<void> {
    const found = await this.opts.paths.scan();
    for (const p of found) await this.checkPath(p);
    const set = new Set(found);
    for (const f of [...this.t.files.values()]) {
      if (f.state !== 'active') continue;
      if (!set.has(f.path)) await this.checkPath(f.path);
      this.t.markDirty(f);
    }
    this.t.updateWatches();
  }

  /** Re-stat a path: the followed file left it (rotation/deletion) and/or a new file is there. */
  async checkPath(path: string): Promise<void> {
    const f = this.t.byPath.get(path);
    let st: BigIntStats | undefined;
    try {
      st = await stat(path, { bigint: true });
    } catch {
      st = undefined;
    }
    const key = st ? fileKey(st) : undefined;
    if (f && f.path === path && key !== f.key) await this.gone(f);
    if (st && st.isFile() && (!f || key !== f.key) && this.opts.paths.matches(path)) await this.consider(path, false, st, f);
  }

  private async gone(f: TailFile): Promise<void> {
    if (f.state === 'gone') return;
    const links = await f.nlink().catch(() => 0);
    f.markGone(Date.now());
    for (const p of [f.path, f.realPath]) if (this.t.byPath.get(p) === f) this.t.byPath.delete(p);
    this.left.set(f.path, f);
    this.t.sink.count(links === 0 ? 'deletions' : 'rotations');
    this.t.sink.log.info({ path: f.path, offset: f.offset, src: f.src }, links === 0 ? 'file deleted: reading it to its end' : 'file rotated: reading the old file to its end');
    this.t.markDirty(f);
    this.t.ensureTicker();
  }

  private register(f: TailFile, path: string): void {
    this.t.files.set(f.key, f);
    this.t.byPath.set(path, f);
    this.t.byPath.set(f.realPath, f);
    this.t.markDirty(f);
  }

  /** Follow the file at `path` unless it already is followed. */
  async consider(path: string, initial: boolean, st?: BigIntStats, replaced?: TailFile): Promise<void> {
    if (!st) {
      try {
        st = await stat(path, { bigint: true });
      } catch {
        return;
      }
    }
    if (!st.isFile()) return;
    const known = this.t.files.get(fileKey(st));
    if (known) return this.moved(known, path);
    const waitUntil = this.copies.get(fileKey(st));
    if (waitUntil !== undefined && Date.now() < waitUntil) return;
    const entry0 = this.t.db.get(fileKey(st));
    if (!entry0 && this.opts.ignoreOlderMs > 0 && Date.now() - Number(st.mtimeMs) > this.opts.ignoreOlderMs) {
      if (!this.skipped.has(fileKey(st))) this.skipped.set(fileKey(st), Number(st.size));
      return;
    }
    let f: TailFile;
    try {
      f = await TailFile.open(path);
    } catch (err) {
      this.t.sink.count('open_errors');
      if (!this.unreadable.has(path)) this.t.sink.log.warn({ err, path }, 'cannot open file; retrying every refresh_interval');
      this.unreadable.add(path);
      return;
    }
    this.unreadable.delete(path);
    const again = this.t.files.get(f.key); // replaced between stat and open
    if (again) {
      await f.close();
      return this.moved(again, path);
    }
    if (!initial && waitUntil === undefined && !this.t.db.get(f.key) && (await this.deferIfCopy(f, path))) return;
    this.copies.delete(f.key);
    f.realPath = await this.t.resolveReal(path);
    f.tag = expandTag(this.opts.tag, path);
    const entry = this.t.db.get(f.key);
    let how: string;
    let fresh = false;
    if (entry && f.matches(entry)) {
      f.sid = entry.sid;
      f.gen = entry.gen;
      f.setSrc();
      f.savedSrc = f.src;
      f.startAt(entry.offset);
      how = 'resumed at committed offset';
    } else {
      let before: TailFile | undefined;
      if (entry) {
        // Same inode, other first bytes: truncated and rewritten while we were stopped, or a
        // reused inode. If a copy of the old content is next to it, finish that first.
        before = await this.adoptCopy(path, entry, f.tag);
        this.t.sink.log.info({ path }, before ? 'file was copytruncated while stopped' : 'inode reused by a new file');
      }
      const skippedAt = this.skipped.get(f.key);
      this.skipped.delete(f.key);
      let start: number;
      if (skippedAt !== undefined && skippedAt <= f.size) {
        start = skippedAt;
        how = 'ignore_older file became active: reading what was appended';
      } else if (!initial || entry || (this.t.db.existed && createdSince(st, this.t.db.savedAt))) {
        start = 0;
        how = 'new file: reading from its head';
        // A file born just now (not one moved in from elsewhere): copies made of it before we
        // opened it (copytruncated before we got to it) are generations of it too.
        const born = Number(st.birthtimeMs);
        fresh = born > 0 && Date.now() - born < FRESH_MS;
        if (fresh) f.copiesSince = Math.min(f.copiesSince, born);
      } else if (this.opts.readFromHead) {
        start = 0;
        how = 'read_from_head';
      } else {
        start = await lastLineStart(f);
        how = 'following from the end';
      }
      f.startAt(start);
      f.after = before;
      this.t.commit(f);
    }
    const prev = replaced ?? this.left.get(path);
    this.left.delete(path);
    if (prev && prev.state === 'gone' && !prev.closed) f.after ??= prev;
    // Born just now and read from its head: were generations of it copytruncated before we got
    // to it? (For any other file no copy can be younger than our open: nothing to look for.)
    if (fresh && f.head.length > 0) await this.adoptUnseen(f);
    this.register(f, path);
    this.t.sink.count('files_opened');
    this.t.sink.gauge?.('files_open', this.t.files.size);
    this.t.sink.log.info({ path, offset: f.offset, src: f.src }, `following file (${how})`);
  }

  /**
   * A followed file next to `path`, born before `f`, whose first bytes `f` starts with: `f` is a
   * copy of it. (Born before: a file's copies are younger than it, and the original itself,
   * read blind after a truncation, starts like the copies made of it since.)
   */
  private copyOf(f: TailFile, path: string): TailFile | undefined {
    if (f.head.length === 0) return undefined;
    const dir = dirname(path);
    const born = Number(f.stat.birthtimeMs);
    for (const o of this.t.files.values()) {
      if (o === f || o.key === f.key || o.state !== 'active' || o.copy || o.head.length === 0 || dirname(o.realPath) !== dir || !basename(path).startsWith(stemOf(o.realPath))) continue;
      if (!(born > Number(o.stat.birthtimeMs))) continue;
      const n = Math.min(o.head.length, f.head.length);
      if (f.head.subarray(0, n).equals(o.head.subarray(0, n))) return o;
    }
    return undefined;
  }

  /**
   * `path` matches the copies (app.log*) and `f`, new, starts like a followed file next to it:
   * read as a new file, the lines already read from the original would come twice. It waits
   * instead (closed, unfollowed) for the original's truncation, which finds it as its copy and
   * reads it from the original's offset; or, after `copyWaitMs` (10 s) without one, it is read as a
   * file of its own. Called when a new file shows up, and at the first read of one that was
   * empty then (the copy is created before it is filled).
   */
  async deferIfCopy(f: TailFile, path: string): Promise<boolean> {
    if (this.copies.has(f.key)) return false;
    const of = this.copyOf(f, path);
    if (!of) return false;
    await this.unfollow(f);
    this.copies.set(f.key, Date.now() + (this.opts.copyWaitMs ?? 10_000));
    this.t.sink.log.info({ path, of: of.path }, 'new file starts like a followed one (a copytruncate copy?): waiting for its truncation');
    return true;
  }

  /**
   * A copy read to its end whose name `path` matches (app.log.1 with `app.log*`): closed and
   * forgotten, the next scan would find it as a new file and read it again. It goes on being
   * followed under that name instead (same stream, from its end), like a renamed file; it is
   * closed when it is rotated away or deleted. False when it is no longer at that name.
   */
  async keepAsOwn(f: TailFile): Promise<boolean> {
    const at = await stat(f.realPath, { bigint: true }).catch(() => undefined);
    if (!at || fileKey(at) !== f.key) return false;
    f.copy = false;
    f.state = 'active';
    f.path = f.realPath;
    f.tag = expandTag(this.opts.tag, f.path);
    this.t.byPath.set(f.path, f);
    this.t.commit(f);
    this.t.sink.log.info({ path: f.path, offset: f.offset, src: f.src }, 'copy read to its end; `path` matches it: following it under its own name');
    return true;
  }

  /** Stop following `f` as a file of its own, forgetting it (it has not emitted anything). */
  private async unfollow(f: TailFile): Promise<void> {
    await f.close();
    if (this.t.files.get(f.key) === f) {
      this.t.files.delete(f.key);
      this.t.db.delete(f.key);
    }
    for (const p of [f.path, f.realPath]) if (this.t.byPath.get(p) === f) this.t.byPath.delete(p);
  }

  /**
   * Is the file with this device:inode out of reach as a copy? Yes if it is followed already —
   * unless it is a file `path` matches that has not given us anything yet (a copy created
   * empty and filled after we found it): that one is unfollowed and read as the copy.
   */
  private taken(key: string): boolean {
    const o = this.t.files.get(key);
    return !!o && (o.copy || o.state !== 'active' || o.offset !== 0 || o.queue.pending > 0);
  }

  /** A copy found by the truncation of its original is no longer waiting. */
  adopted(key: string): void {
    this.copies.delete(key);
    for (const [k, until] of this.copies) if (Date.now() >= until) this.copies.delete(k);
  }

  forget(f: TailFile): void {
    if (this.left.get(f.path) === f) this.left.delete(f.path);
  }

  /** A followed file showed up under another followed name: keep following it there. */
  private async moved(f: TailFile, path: string): Promise<void> {
    if (f.copy) {
      // A copy we read as the rest of its original (meta.path stays the original's): it keeps
      // being read to its end and closed, wherever it is renamed to.
      f.realPath = await this.t.resolveReal(path);
      return;
    }
    if (f.state === 'active') {
      if (f.path === path) return;
      // Still at its old name too (a hard link)? Then keep that name; else it was renamed.
      const at = await stat(f.path, { bigint: true }).catch(() => undefined);
      if (at && fileKey(at) === f.key) return;
    }
    for (const p of [f.path, f.realPath]) if (this.t.byPath.get(p) === f) this.t.byPath.delete(p);
    f.path = path;
    f.realPath = await this.t.resolveReal(path);
    f.tag = expandTag(this.opts.tag, path);
    f.state = 'active';
    this.t.byPath.set(path, f);
    this.t.byPath.set(f.realPath, f);
    this.t.markDirty(f);
  }

  /**
   * Continue `stream` in the copy a copytruncate left next to `path` (same first bytes as the
   * stream, at least as long as what we read). The copy is read to its end, then closed.
   */
  async adoptCopy(near: string, s: Stream | FileEntry, tag: string, isHead?: (h: Buffer) => boolean, headLen?: number): Promise<TailFile | undefined> {
    const e = s as FileEntry;
    const len = headLen ?? e.fpLen;
    const test = isHead ?? ((h: Buffer) => hashHead(h) === e.fp);
    const c = await findCopy(near, len, test, s.offset, (k) => this.taken(k));
    if (!c) return undefined;
    const o = this.t.files.get(c.key);
    if (o) await this.unfollow(o);
    let f: TailFile;
    try {
      f = await TailFile.open(c.path);
    } catch {
      return undefined;
    }
    if (this.t.files.has(f.key) || f.head.length < len || !test(f.head.subarray(0, len))) {
      await f.close();
      return undefined;
    }
    f.copy = true;
    this.adopted(f.key);
    this.continueStream(f, s, s.path, c.path, tag);
    this.t.sink.count('copytruncate_recovered');
    return f;
  }

  /**
   * Copies of generations of `f` that we never saw (created and truncated between two of our
   * looks, e.g. while downstream was full) are read whole, oldest first, before `f` goes on.
   * Each is a stream of its own (new `src`, from offset 0). Returns how many were found.
   */
  async adoptUnseen(f: TailFile): Promise<number> {
    const found = await findUnseen(f.realPath, f.copiesSince, f.head, (c) => this.t.files.has(c.key) || this.opts.paths.matches(c.path));
    let n = 0;
    for (const c of found) {
      let u: TailFile;
      try {
        u = await TailFile.open(c.path);
      } catch {
        continue;
      }
      if (u.key !== c.key || this.t.files.has(u.key)) {
        await u.close();
        continue;
      }
      u.copy = true;
      this.continueStream(u, { path: f.path, sid: u.sid, gen: 0, offset: 0, inLong: false }, f.path, c.path, f.tag);
      if (f.after && !f.after.closed) u.after = f.after;
      f.after = u;
      f.copiesSince = Math.max(f.copiesSince, c.bornMs);
      n++;
      this.t.sink.count('copytruncate_unseen');
      this.t.sink.log.info({ path: f.path, copy: c.path, size: c.size }, 'copy of a generation truncated before we saw it: reading it whole');
    }
    if (n) this.t.markDirty(f);
    return n;
  }

  private continueStream(f: TailFile, s: Stream | FileEntry, path: string, realPath: string, tag: string): void {
    f.path = path;
    f.realPath = realPath;
    f.tag = tag;
    f.sid = s.sid;
    f.gen = s.gen;
    f.setSrc();
    f.startAt(s.offset);
    const q = (s as Stream).queue;
    if (q) {
      f.queue = q;
      q.owner = f;
    }
    f.inLong = (s as Stream).inLong ?? false;
    f.markGone(Date.now());
    this.t.files.set(f.key, f);
    this.t.commit(f);
    this.t.markDirty(f);
    this.t.ensureTicker();
  }

  /** Files in the state that no pattern matched: rotated while we were stopped? Finish them. */
  private async orphans(): Promise<void> {
    for (const [key, e] of [...this.t.db.entries]) {
      if (this.t.files.has(key)) continue;
      const c = await findByKey(e.path, key);
      let f: TailFile | undefined;
      if (c) f = await TailFile.open(c.path).catch(() => undefined);
      if (!c || !f || f.key !== key || !f.matches(e)) {
        await f?.close();
        this.t.db.delete(key);
        continue;
      }
      this.continueStream(f, e, e.path, c.path, expandTag(this.opts.tag, e.path));
      const next = this.t.byPath.get(e.path);
      if (next && next !== f) next.after = f;
      this.t.sink.count('files_opened');
      this.t.sink.log.info({ path: c.path, offset: e.offset }, 'finishing a file rotated while stopped');
    }
  }
}

function createdSince(st: BigIntStats, savedAt: number): boolean {
  const born = Number(st.birthtimeMs);
  return (born > 0 ? born : Number(st.ctimeMs)) > savedAt;
}

/** Offset of the start of the last (possibly unfinished) line, so we never start mid-line. */
async function lastLineStart(f: TailFile): Promise<number> {
  const size = f.size;
  if (size === 0) return 0;
  const from = Math.max(0, size - LAST_LINE_WINDOW);
  const b = Buffer.allocUnsafe(size - from);
  const { bytesRead } = await f.fh.read(b, 0, b.length, from);
  const nl = b.subarray(0, bytesRead).lastIndexOf(10);
  if (nl >= 0) return from + nl + 1;
  return from === 0 ? 0 : size;
}
