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
import { realpath, stat } from 'node:fs/promises';
import type { Copytruncate } from './tail-copytruncate.js';
import type { FileEntry, OffsetDb } from './tail-db.js';
import { fileKey, TailFile } from './tail-file.js';
import { findByKey } from './tail-find.js';
import type { FollowedFiles } from './tail-followed.js';
import type { FollowerLog, FollowerOptions } from './tail-follower.js';
import { MissingPaths } from './tail-missing.js';
import { expandTag } from './tail-scan.js';

const LAST_LINE_WINDOW = 64 * 1024;
/** A file found this soon after its birth was created while we were watching. */
const FRESH_MS = 60_000;

/** What discovery may do to the follower. */
export interface DiscoveryHost {
  readonly files: FollowedFiles;
  readonly db: OffsetDb;
  readonly copies: Copytruncate;
  readonly log: FollowerLog;
  count(name: string): void;
  gauge(name: string, value: number): void;
  commit(f: TailFile): void;
  markDirty(f: TailFile): void;
  /** Re-read gone files every tick until they are closed. */
  ensureTicker(): void;
  updateWatches(): void;
  /** Follow `f`, which continues a stream, to its end. */
  track(f: TailFile): void;
}

export type DiscoveryOptions = Pick<FollowerOptions, 'paths' | 'tag' | 'ignoreOlderMs' | 'readFromHead' | 'offsetsExpireMs' | 'missingWarnMs'>;

/** offsets_expire's default (the schema's). */
const DEFAULT_EXPIRE_MS = 7 * 86_400_000;

/** Where a new file starts, and why (for the log). */
interface Start {
  how: string;
  /** Born just now (not moved in from elsewhere): copies made of it since its birth are its generations. */
  fresh: boolean;
}

export async function resolveReal(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

export class Discovery {
  /** Files skipped by ignore_older: device:inode -> size then (start there if they wake up). */
  private readonly skipped = new Map<string, number>();
  /** Paths that could not be opened (warned once). */
  private readonly unreadable = new Set<string>();
  /** The file that last left each path: its successor is read once it is finished. */
  private readonly left = new Map<string, TailFile>();

  /** Paths and patterns that find nothing: said so. */
  private readonly missing: MissingPaths;

  constructor(
    private readonly host: DiscoveryHost,
    private readonly opts: DiscoveryOptions,
  ) {
    this.missing = new MissingPaths(opts.paths.patterns, host.log, opts.missingWarnMs);
  }

  async initial(): Promise<void> {
    const found = await this.opts.paths.scan();
    for (const p of found) await this.consider(p, true);
    await this.missing.check(found);
    await this.orphans();
  }

  /** refresh_interval pass: new files, vanished files, and a read of every file (missed events). */
  async refresh(): Promise<void> {
    const found = await this.opts.paths.scan();
    for (const p of found) await this.checkPath(p);
    const set = new Set(found);
    for (const f of [...this.host.files.values()]) {
      if (!f.following) continue;
      if (!set.has(f.path)) await this.checkPath(f.path);
      this.host.markDirty(f);
    }
    await this.missing.check(found);
    this.host.updateWatches();
  }

  /** Re-stat a path: the followed file left it (rotation/deletion) and/or a new file is there. */
  async checkPath(path: string): Promise<void> {
    const f = this.host.files.atPath(path);
    const st = await stat(path, { bigint: true }).catch(() => undefined);
    const key = st ? fileKey(st) : undefined;
    if (f && f.path === path && key !== f.key) await this.gone(f);
    if (st?.isFile() && (!f || key !== f.key) && this.opts.paths.matches(path)) await this.consider(path, false, st, f);
  }

  private async gone(f: TailFile): Promise<void> {
    if (f.gone) return;
    const links = await f.nlink().catch(() => 0);
    f.to('leave');
    this.host.files.unbind(f);
    this.left.set(f.path, f);
    this.host.count(links === 0 ? 'deletions' : 'rotations');
    this.host.log.debug(
      { path: f.path, offset: f.offset, src: f.src },
      links === 0 ? 'file deleted: reading it to its end' : 'file rotated: reading the old file to its end',
    );
    this.host.markDirty(f);
    this.host.ensureTicker();
  }

  /** Follow the file at `path` unless it already is followed. */
  async consider(path: string, initial: boolean, st?: BigIntStats, replaced?: TailFile): Promise<void> {
    st ??= await stat(path, { bigint: true }).catch(() => undefined);
    if (!st?.isFile()) return;
    const f = await this.open(path, st, initial);
    if (!f) return;
    f.realPath = await resolveReal(path);
    f.tag = expandTag(this.opts.tag, path);
    const entry = this.host.db.get(f.key);
    const start = entry && f.matches(entry) ? resume(f, entry) : await this.startNew(f, path, st, entry, initial);
    const prev = replaced ?? this.left.get(path);
    this.left.delete(path);
    if (prev?.gone) f.after ??= prev;
    // Born just now and read from its head: were generations of it copytruncated before we got
    // to it? (For any other file no copy can be younger than our open: nothing to look for.)
    if (start.fresh && f.head.length > 0) await this.host.copies.adoptUnseen(f);
    this.register(f, path);
    const at = { path, offset: f.offset, src: f.src };
    const said = () => {
      this.host.count('files_opened');
      this.host.gauge('files_open', this.host.files.size);
      // At start, each file once; later (rotations) at debug: the rotation summary counts them.
      if (initial) this.host.log.info(at, `following file (${start.how})`);
      else this.host.log.debug(at, `following file (${start.how})`);
    };
    if (initial || start.how === RESUMED) return said();
    // A file that appeared while we run is written to the state now, not at the next coalesced
    // write: it may wait unread behind its predecessor (a lagging agent) for longer than that
    // takes, and a crash meanwhile, the file rotated away before the restart, would lose it
    // although we had seen it. It is counted and logged once written. The loop does not wait
    // for the write (a slow disk would leave the next rotation unseen longer); records of the
    // file wait for a save of their own if it is not done by then (saveStream).
    f.saving = this.host.db.save().then(() => {
      f.saving = undefined;
      if (at.src === f.src) f.savedSrc = at.src;
      said();
    });
  }

  /**
   * Open the file at `path` (`st`) unless it is followed already (then it moved here), held
   * back as a copy, skipped by ignore_older, unreadable, or a copy to hold back now.
   */
  private async open(path: string, st: BigIntStats, initial: boolean): Promise<TailFile | undefined> {
    const key = fileKey(st);
    const known = this.host.files.get(key);
    if (known) return void (await this.moved(known, path));
    const heldUntil = this.host.copies.heldUntil(key);
    if (heldUntil !== undefined && Date.now() < heldUntil) return undefined;
    if (!this.host.db.get(key) && this.opts.ignoreOlderMs > 0 && Date.now() - Number(st.mtimeMs) > this.opts.ignoreOlderMs) {
      if (!this.skipped.has(key)) this.skipped.set(key, Number(st.size));
      return undefined;
    }
    let f: TailFile;
    try {
      f = await TailFile.open(path);
    } catch (err) {
      this.host.count('open_errors');
      if (!this.unreadable.has(path)) this.host.log.warn({ err, path }, 'cannot open file; retrying every refresh_interval');
      this.unreadable.add(path);
      return undefined;
    }
    this.unreadable.delete(path);
    const again = this.host.files.get(f.key); // replaced between stat and open
    if (again) {
      await f.close();
      return void (await this.moved(again, path));
    }
    if (!initial && heldUntil === undefined && !this.host.db.get(f.key) && (await this.host.copies.deferIfCopy(f, path))) return undefined;
    this.host.copies.release(f.key);
    return f;
  }

  /** A file the state does not know as it is now: where does it start? */
  private async startNew(f: TailFile, path: string, st: BigIntStats, entry: FileEntry | undefined, initial: boolean): Promise<Start> {
    let before: TailFile | undefined;
    if (entry) {
      // Same inode, other first bytes: truncated and rewritten while we were stopped, or a
      // reused inode. If a copy of the old content is next to it, finish that first.
      before = await this.host.copies.adoptCopy(path, entry, f.tag);
      this.host.log.info({ path }, before ? 'file was copytruncated while stopped' : 'inode reused by a new file');
      // The next generation of the stream known at this inode, as a truncation seen while running
      // would make it: its src differs from the old one even if the first line is the same.
      f.useSid(entry.sid, entry.gen + 1);
    }
    const skippedAt = this.skipped.get(f.key);
    this.skipped.delete(f.key);
    let start: number;
    let how: string;
    let fresh = false;
    if (skippedAt !== undefined && skippedAt <= f.size) {
      start = skippedAt;
      how = 'ignore_older file became active: reading what was appended';
    } else if (!initial || entry || (this.host.db.existed && createdSince(st, this.host.db.writtenNs))) {
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
    this.host.commit(f);
    return { how, fresh };
  }

  private register(f: TailFile, path: string): void {
    f.to('follow');
    this.host.files.add(f);
    this.host.files.bind(f, path);
    this.host.files.bind(f, f.realPath);
    this.host.markDirty(f);
  }

  forget(f: TailFile): void {
    if (this.left.get(f.path) === f) this.left.delete(f.path);
  }

  /** A followed file showed up under another followed name: keep following it there. */
  private async moved(f: TailFile, path: string): Promise<void> {
    if (f.isCopy) {
      // A copy we read as the rest of its original (meta.path stays the original's): it keeps
      // being read to its end and closed, wherever it is renamed to.
      f.realPath = await resolveReal(path);
      return;
    }
    if (f.following) {
      if (f.path === path) return;
      // Still at its old name too (a hard link)? Then keep that name; else it was renamed.
      const at = await stat(f.path, { bigint: true }).catch(() => undefined);
      if (at && fileKey(at) === f.key) return;
    }
    this.host.files.unbind(f);
    f.path = path;
    f.realPath = await resolveReal(path);
    f.tag = expandTag(this.opts.tag, path);
    f.to('return');
    this.host.files.bind(f, path);
    this.host.files.bind(f, f.realPath);
    this.host.markDirty(f);
  }

  /**
   * Files in the state that no pattern matched. One rotated while we were stopped (found by
   * inode next to its old path) is finished. Any other keeps its entry: a run with a wrong
   * `path` must not erase the offsets of the right one. It expires offsets_expire after a start
   * first missed it.
   */
  private async orphans(): Promise<void> {
    const now = Date.now();
    for (const [key, e] of [...this.host.db.entries]) {
      if (this.host.files.has(key)) continue;
      const c = await findByKey(e.path, key);
      const f = c ? await TailFile.open(c.path).catch(() => undefined) : undefined;
      if (c && f && f.key === key && f.matches(e)) {
        f.continueStream(e, e.path, c.path, expandTag(this.opts.tag, e.path), 'continue');
        this.host.track(f);
        const next = this.host.files.atPath(e.path);
        if (next && next !== f) next.after = f;
        this.host.count('files_opened');
        this.host.log.info({ path: c.path, offset: e.offset }, 'finishing a file rotated while stopped');
        continue;
      }
      await f?.close();
      if (f?.key === key)
        this.host.db.delete(key); // its inode holds another file now
      else this.keepLost(key, e, now);
    }
  }

  private keepLost(key: string, e: FileEntry, now: number): void {
    const expireMs = this.opts.offsetsExpireMs ?? DEFAULT_EXPIRE_MS;
    if (e.lost === undefined) {
      this.host.db.set(key, { ...e, lost: now });
      this.host.log.info({ path: e.path, offset: e.offset }, 'no pattern finds this known file: its offset is kept (offsets_expire)');
    } else if (expireMs > 0 && now - e.lost >= expireMs) {
      this.host.db.delete(key);
      this.host.log.info(
        { path: e.path, offset: e.offset, lost: new Date(e.lost).toISOString() },
        'offset of a file not found since offsets_expire: forgotten',
      );
    }
  }
}

const RESUMED = 'resumed at committed offset';

/** The state knows this file as it is: go on at the committed offset, same stream. */
function resume(f: TailFile, entry: FileEntry): Start {
  if (entry.sidFixed === false) {
    // Saved before its first line was known; nothing left under it: derive it again.
    f.gen = entry.gen;
    f.identify();
  } else f.useSid(entry.sid, entry.gen);
  f.savedSrc = `${entry.sid}:${entry.gen}`;
  f.startAt(entry.offset);
  return { how: RESUMED, fresh: false };
}

/**
 * Born after the state file was last written (by the file system's clock on both sides). Born in
 * the same tick counts as after: such a file was not in the state, so no run followed it yet.
 */
function createdSince(st: BigIntStats, writtenNs: bigint): boolean {
  const born = st.birthtimeNs > 0n ? st.birthtimeNs : st.ctimeNs;
  return born >= writtenNs;
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
