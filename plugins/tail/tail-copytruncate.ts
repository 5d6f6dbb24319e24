/**
 * Truncation and copytruncate: detecting that a followed file's content was replaced, and
 * adopting the copies a copytruncate leaves next to it, so that no generation is lost or read
 * twice. Everything about copies lives here; it works on the follower through CopyHost only.
 *
 * A file is truncated when it is shorter than our offset, or when its first bytes (the
 * fingerprint) changed: it was truncated and grew past (or back to) our offset before we
 * looked. Then the rest of the old generation is read from its copy (same stream), copies of
 * generations we never saw are read whole, oldest first, and the file restarts at 0.
 * Files waiting for downstream room, or for a rotated predecessor to be finished, are probed
 * every tick so that a second rotation in the meantime does not go unnoticed: the copy of
 * each generation is found (and held open) while it is still there.
 *
 * When `path` matches the copies too (app.log*), a new file that starts like a followed one is
 * held back until that file's truncation claims it, and a copy read to its end is followed on
 * under its own name (see docs/tail-rotation.md).
 */
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { FileEntry } from './tail-db.js';
import { fileKey, hashHead, HEAD_MAX, TailFile, type Stream } from './tail-file.js';
import { findCopy, findUnseen, stemOf } from './tail-find.js';
import type { FollowedFiles } from './tail-followed.js';
import type { FollowerLog } from './tail-follower.js';

/** What copytruncate handling may do to the follower. */
export interface CopyHost {
  readonly files: Pick<FollowedFiles, 'get' | 'has' | 'values' | 'bind'>;
  readonly log: FollowerLog;
  count(name: string): void;
  /** Does `path` match the patterns (and no exclude)? */
  matches(path: string): boolean;
  /** The tag of records of a file followed at `path`. */
  tagFor(path: string): string;
  /** Stop following `f`, which has given nothing yet, and forget it. */
  drop(f: TailFile): Promise<void>;
  /** Follow `f`, which continues a stream, to its end. */
  track(f: TailFile): void;
  commit(f: TailFile): void;
  markDirty(f: TailFile): void;
}

export class Copytruncate {
  private readonly scratch = Buffer.allocUnsafe(HEAD_MAX);
  /** Copies (device:inode) waiting for the truncation of the file they copy: until when. */
  private readonly held = new Map<string, number>();

  constructor(
    private readonly host: CopyHost,
    private readonly copyWaitMs: number,
  ) {}

  /** Without reading data: is `f` truncated? Also extends its fingerprint as the file grows. */
  async probe(f: TailFile): Promise<void> {
    if (!f.following) return;
    try {
      if ((await f.fsize()) < f.offset) return await this.handle(f, 'size');
      const blind = f.head.length === 0;
      if ((await f.checkHead(this.scratch)) === 'changed') return await this.handle(f, 'fingerprint');
      // The first bytes of a generation we knew nothing of: were others truncated before it?
      if (blind && f.head.length > 0) await this.adoptUnseen(f);
    } catch (err) {
      this.host.count('read_errors');
      this.host.log.debug({ err, path: f.path }, 'probe failed');
    }
  }

  /**
   * `f` just read `n` bytes from its offset into `buf`. True when they must not be emitted: the
   * file was truncated or its content replaced (handled: its copy is read first), copies of
   * generations before the first bytes of this one were found (read first, then this batch
   * again), or the file is a copytruncate copy being filled (held back). `headAfter`: the head
   * compared already, from a re-read after this read (TailFile.readThenHead).
   */
  async replaced(f: TailFile, buf: Buffer, n: number, headAfter?: 'same' | 'changed'): Promise<boolean> {
    if (n === 0) {
      const size = await f.fsize();
      if (size < f.offset) return this.handled(f, 'size');
      // Woken with nothing new: the content may have been replaced by exactly as many bytes
      // (copytruncate, then a write of the same length, then silence). The head tells.
      if (size === f.offset && f.offset > 0 && f.following && (await f.checkHead(this.scratch)) === 'changed') return this.handled(f, 'fingerprint');
      return false;
    }
    if (!f.following) return false;
    // Content replaced under us (copytruncate, then the file grew past our offset; or
    // replaced before we read anything)? The batch is then dropped and the copy looked for.
    const blind = f.head.length === 0 && f.offset === 0;
    const head = f.offset === 0 ? f.headOfRead(buf, n) : (headAfter ?? (await f.checkHead(this.scratch)));
    if (head === 'changed') return this.handled(f, 'fingerprint');
    if (!blind) return false;
    // The first bytes of a generation we knew nothing of: if generations truncated before it
    // left copies, those are read first (this batch is read again after them).
    if ((await this.adoptUnseen(f)) > 0) return true;
    // A new file that was empty when it showed up: a copytruncate copy being filled?
    return this.deferIfCopy(f, f.path);
  }

  private async handled(f: TailFile, why: 'size' | 'fingerprint'): Promise<true> {
    await this.handle(f, why);
    return true;
  }

  /** Finish the old content from the copy a copytruncate left (if any), restart `f` at 0. */
  async handle(f: TailFile, why: 'size' | 'fingerprint'): Promise<void> {
    this.host.count('truncations');
    const queue = f.queue;
    const old: Stream = { path: f.path, sid: f.sid, gen: f.gen, offset: f.offset, inLong: f.inLong, queue };
    const head = f.head;
    // Even at offset 0: the copy then holds a whole generation we had not read yet.
    const copy = head.length > 0 ? await this.adoptCopy(f.realPath, old, f.tag, (h) => h.equals(head), head.length) : undefined;
    // A copy of an earlier generation may still be unread: keep the order.
    if (copy) f.readAfter(copy);
    else queue.owner = undefined; // that stream ends here: its late settlements change nothing
    this.host.log.debug(
      { path: f.path, offset: old.offset, why, copy: copy?.realPath },
      copy ? 'file truncated (copytruncate): reading the rest from the copy, then the file from its start' : 'file truncated: reading it from its start',
    );
    f.gen++;
    f.setSrc();
    f.head = await f.readHead();
    f.startAt(0);
    // Generations created and truncated since our last look left copies too: read them in between.
    await this.adoptUnseen(f);
    if (copy) f.copiesSince = Math.max(f.copiesSince, Number(copy.stat.birthtimeMs));
    this.host.commit(f);
    this.host.markDirty(f);
  }

  /** Until when a new file with this device:inode is held back as a copy (undefined: it is not). */
  heldUntil(key: string): number | undefined {
    return this.held.get(key);
  }

  /** The file with this device:inode is followed now: no longer held back. */
  release(key: string): void {
    this.held.delete(key);
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
    if (this.held.has(f.key)) return false;
    const of = this.copyOf(f, path);
    if (!of) return false;
    await this.host.drop(f);
    this.held.set(f.key, Date.now() + this.copyWaitMs);
    this.host.log.debug({ path, of: of.path }, 'new file starts like a followed one (a copytruncate copy?): waiting for its truncation');
    return true;
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
    for (const o of this.host.files.values()) {
      if (o === f || o.key === f.key || !o.following || o.head.length === 0 || dirname(o.realPath) !== dir || !basename(path).startsWith(stemOf(o.realPath)))
        continue;
      if (!(born > Number(o.stat.birthtimeMs))) continue;
      const n = Math.min(o.head.length, f.head.length);
      if (f.head.subarray(0, n).equals(o.head.subarray(0, n))) return o;
    }
    return undefined;
  }

  /**
   * A copy read to its end whose name `path` matches (app.log.1 with `app.log*`): closed and
   * forgotten, the next scan would find it as a new file and read it again. It goes on being
   * followed under that name instead (same stream, from its end), like a renamed file; it is
   * closed when it is rotated away or deleted. False when it is not to be kept.
   */
  async keepAsOwn(f: TailFile): Promise<boolean> {
    if (!f.isCopy || !this.host.matches(f.realPath)) return false;
    const at = await stat(f.realPath, { bigint: true }).catch(() => undefined);
    if (!at || fileKey(at) !== f.key) return false;
    f.to('keep');
    f.path = f.realPath;
    f.tag = this.host.tagFor(f.path);
    this.host.files.bind(f, f.path);
    this.host.commit(f);
    this.host.log.debug({ path: f.path, offset: f.offset, src: f.src }, 'copy read to its end; `path` matches it: following it under its own name');
    return true;
  }

  /**
   * Is the file with this device:inode out of reach as a copy? Yes if it is followed already —
   * unless it is a file `path` matches that has not given us anything yet (a copy created
   * empty and filled after we found it): that one is unfollowed and read as the copy.
   */
  private taken(key: string): boolean {
    const o = this.host.files.get(key);
    return !!o && (!o.following || o.offset !== 0 || o.queue.pending > 0);
  }

  /** A copy found by the truncation of its original is no longer waiting. */
  private claimed(key: string): void {
    this.held.delete(key);
    for (const [k, until] of this.held) if (Date.now() >= until) this.held.delete(k);
  }

  /**
   * Continue stream `s` in the copy a copytruncate left next to `near` (same first bytes as the
   * stream, at least as long as what we read). The copy is read to its end, then closed.
   */
  async adoptCopy(near: string, s: Stream | FileEntry, tag: string, isHead?: (h: Buffer) => boolean, headLen?: number): Promise<TailFile | undefined> {
    const e = s as FileEntry;
    const len = headLen ?? e.fpLen;
    const test = isHead ?? ((h: Buffer) => hashHead(h) === e.fp);
    const c = await findCopy(near, len, test, s.offset, (k) => this.taken(k));
    if (!c) return undefined;
    const o = this.host.files.get(c.key);
    if (o) await this.host.drop(o);
    let f: TailFile;
    try {
      f = await TailFile.open(c.path);
    } catch {
      return undefined;
    }
    if (this.host.files.has(f.key) || f.head.length < len || !test(f.head.subarray(0, len))) {
      await f.close();
      return undefined;
    }
    this.claimed(f.key);
    f.continueStream(s, s.path, c.path, tag, 'adopt');
    this.host.track(f);
    this.host.count('copytruncate_recovered');
    return f;
  }

  /**
   * Copies of generations of `f` that we never saw (created and truncated between two of our
   * looks, e.g. while downstream was full) are read whole, oldest first, before `f` goes on.
   * Each is a stream of its own (new `src`, from offset 0). Returns how many were found.
   */
  async adoptUnseen(f: TailFile): Promise<number> {
    const found = await findUnseen(f.realPath, f.copiesSince, f.head, (c) => this.host.files.has(c.key) || this.host.matches(c.path));
    let n = 0;
    for (const c of found) {
      let u: TailFile;
      try {
        u = await TailFile.open(c.path);
      } catch {
        continue;
      }
      if (u.key !== c.key || this.host.files.has(u.key)) {
        await u.close();
        continue;
      }
      u.continueStream({ path: f.path, sid: u.sid, gen: 0, offset: 0, inLong: false }, f.path, c.path, f.tag, 'adopt');
      this.host.track(u);
      f.readAfter(u);
      f.copiesSince = Math.max(f.copiesSince, c.bornMs);
      n++;
      this.host.count('copytruncate_unseen');
      this.host.log.debug({ path: f.path, copy: c.path, size: c.size }, 'copy of a generation truncated before we saw it: reading it whole');
    }
    if (n) this.host.markDirty(f);
    return n;
  }
}
