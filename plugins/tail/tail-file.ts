/**
 * One followed file: an open handle, its identity and the read position.
 *
 * Identity is device + inode (the handle pins the inode, so it cannot be reused while the
 * file is open) plus a fingerprint of the first bytes, which tells a reused inode from the
 * file we knew after a restart, and a copytruncate from an append while we run.
 * The byte stream gets `src` = `${sid}:${gen}`, where sid = `${dev}:${ino}:${id}` and id is a
 * digest of the file's birth time and first line: derived from the file itself, so the same
 * file read again (its offset forgotten, another state file) gets the same src/seq and a
 * downstream high-water mark drops what it already has. A reused inode has another birth time.
 * The sid is persisted (a copytruncate copy that continues a stream keeps its src, and state
 * files written before ids were derived keep their random ones). gen counts truncations.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { addonFunction } from '../../core/native-addon.js';
import { CommitQueue } from './tail-commit.js';
import type { FileEntry } from './tail-db.js';
import { holdsSuccessor, isCopy, isFollowing, isGone, isGoneAtEnd, isOpen, nextPhase, Phase, type LifeEvent } from './tail-lifecycle.js';

/** Bytes of the file's start kept as its fingerprint. */
export const HEAD_MAX = 256;

type ReadWithHead = (
  fd: number,
  data: Buffer,
  length: number,
  position: number,
  head: Buffer,
  headLength: number,
  cb: (err: Error | null, bytesRead?: number, headBytes?: number) => void,
) => void;
let readWithHead: ReadWithHead | null | undefined;
/** The addon's readWithHead (native/read.cc), or undefined without the addon. */
function nativeReadWithHead(): ReadWithHead | undefined {
  if (readWithHead === undefined) readWithHead = addonFunction<ReadWithHead>('readWithHead') ?? null;
  return readWithHead ?? undefined;
}

/** A byte stream to continue in another file (a copytruncate copy, a file rotated while stopped). */
export interface Stream {
  path: string;
  sid: string;
  gen: number;
  offset: number;
  inLong?: boolean;
  queue?: CommitQueue<TailFile>;
}

export function fileKey(st: { dev: bigint; ino: bigint }): string {
  return `${st.dev}:${st.ino}`;
}

/**
 * The id of the stream a file's content starts: device, inode, and a digest of its birth time
 * (0 where the file system has none) and first line (up to HEAD_MAX bytes).
 */
export function streamId(dev: string, ino: string, bornNs: bigint, head: Buffer): string {
  const nl = head.indexOf(10);
  const first = nl >= 0 ? head.subarray(0, nl + 1) : head;
  const id = createHash('sha256')
    .update(`${bornNs > 0n ? bornNs : 0n}\n`)
    .update(first)
    .digest('hex')
    .slice(0, 12);
  return `${dev}:${ino}:${id}`;
}

/** The head holds the whole first line (or HEAD_MAX bytes of it): it will not change any more. */
export function firstLineKnown(head: Buffer): boolean {
  return head.length >= HEAD_MAX || head.indexOf(10) >= 0;
}

export function hashHead(head: Buffer): string {
  return createHash('sha256').update(head).digest('hex').slice(0, 32);
}

export class TailFile {
  /** Path as matched by the glob (meta.path); realPath is where events come from. */
  path: string;
  realPath: string;
  readonly key: string;
  readonly dev: string;
  readonly ino: string;
  head: Buffer = Buffer.alloc(0);
  sid = '';
  /**
   * The sid is final: given (resumed, continued) or derived from a known first line. Until then
   * it is derived again as the head grows, and fixed at the latest when records leave.
   */
  sidFixed = false;
  gen = 0;
  src = '';
  tag = '';
  /** Next byte to consume: everything before it was emitted (or skipped at start). */
  offset = 0;
  /** The last emitted record is a piece of an unfinished long line. */
  inLong = false;
  queue: CommitQueue<TailFile> = new CommitQueue<TailFile>(0, this);
  /** The last read ended in an unterminated line (held back until a newline or the close). */
  partial = false;
  /** Where the file is in its lifecycle (tail-lifecycle.ts); changed only by to(). */
  private current: Phase = Phase.Opened;
  /** When it left its path (or was adopted as a copy). */
  goneAt = 0;
  /** Read after this file is drained (the file it replaced at the same path). */
  after: TailFile | undefined;
  /** Last known size from fstat (for bookkeeping / logs). */
  size = 0;
  /** Consecutive read errors (for back-off). */
  errors = 0;
  /** The `src` this file's state entry was last saved with (records of another src wait for a save). */
  savedSrc = '';
  /** A write of the state with this file's entry, under way (see Discovery.consider). */
  saving: Promise<void> | undefined;
  /**
   * Copies next to this file born after this time (ms) are of generations we have not handled
   * yet: the birth time of the newest copy we read from, or when we opened the file.
   */
  copiesSince = Date.now();

  private constructor(
    readonly fh: FileHandle,
    path: string,
    readonly stat: BigIntStats,
  ) {
    this.path = path;
    this.realPath = path;
    this.dev = String(stat.dev);
    this.ino = String(stat.ino);
    this.key = fileKey(stat);
    this.size = Number(stat.size);
  }

  /** Open `path` and read its head. Identity comes from the handle (no stat/open race). */
  static async open(path: string): Promise<TailFile> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTFILE' });
      const f = new TailFile(fh, path, st);
      f.head = await f.readHead();
      f.identify();
      return f;
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  setSrc(): void {
    this.src = `${this.sid}:${this.gen}`;
  }

  /** Derive the sid from the file, unless it is final; `force`: records leave now, take the head as it is. */
  identify(force = false): void {
    if (this.sidFixed) return;
    this.sid = streamId(this.dev, this.ino, this.stat.birthtimeNs, this.head);
    this.sidFixed = force || firstLineKnown(this.head);
    this.setSrc();
  }

  /** Take a given stream id (resumed from the state, or continued from another file). */
  useSid(sid: string, gen: number): void {
    this.sid = sid;
    this.sidFixed = true;
    this.gen = gen;
    this.setSrc();
  }

  /** Start (or restart) the stream at `offset` with a fresh commit queue. */
  startAt(offset: number): void {
    this.offset = offset;
    this.inLong = false;
    this.queue = new CommitQueue<TailFile>(offset, this);
  }

  async readHead(): Promise<Buffer> {
    const b = Buffer.allocUnsafe(HEAD_MAX);
    const { bytesRead } = await this.fh.read(b, 0, HEAD_MAX, 0);
    return Buffer.from(b.subarray(0, bytesRead));
  }

  /**
   * Compare the file's first bytes with the known head. 'changed' means the content was
   * replaced (copytruncate / truncate + rewrite). A head that grew is extended — unless it was
   * empty and we already read past the start: the bytes there now may belong to a later
   * generation (truncated and rewritten since our read), and taking them as this stream's
   * head would hide that truncation and send the copy search after the wrong generation.
   */
  async checkHead(scratch: Buffer): Promise<'same' | 'changed'> {
    const { bytesRead } = await this.fh.read(scratch, 0, HEAD_MAX, 0);
    return this.compareHead(scratch, bytesRead, this.head.length > 0 || this.offset === 0);
  }

  /**
   * We just read `buf[0, n)` from offset 0: does it start with the known head? The head is
   * then extended from these very bytes (not from a second read, which could see a later
   * generation if the file was copytruncated in between).
   */
  headOfRead(buf: Buffer, n: number): 'same' | 'changed' {
    return this.compareHead(buf, n, true);
  }

  /** Does `buf[0, n)` start with the known head? If so and `extend`, it becomes the (longer) head. */
  private compareHead(buf: Buffer, n: number, extend: boolean): 'same' | 'changed' {
    const want = this.head.length;
    if (n < want || buf.compare(this.head, 0, want, 0, want) !== 0) return 'changed';
    if (extend && n > want && want < HEAD_MAX) this.head = Buffer.from(buf.subarray(0, Math.min(n, HEAD_MAX)));
    return 'same';
  }

  fingerprint(): { fpLen: number; fp: string } {
    return { fpLen: this.head.length, fp: hashHead(this.head) };
  }

  /** Does this file start with the bytes an entry was fingerprinted with? */
  matches(e: Pick<FileEntry, 'fpLen' | 'fp'>): boolean {
    return this.head.length >= e.fpLen && hashHead(this.head.subarray(0, e.fpLen)) === e.fp;
  }

  /** Persistable entry for the committed state. */
  entry(): FileEntry {
    return {
      path: this.path,
      dev: this.dev,
      ino: this.ino,
      ...this.fingerprint(),
      sid: this.sid,
      sidFixed: this.sidFixed,
      gen: this.gen,
      offset: this.queue.committed,
    };
  }

  async read(buf: Buffer, length: number): Promise<number> {
    const { bytesRead } = await this.fh.read(buf, 0, length, this.offset);
    return bytesRead;
  }

  /**
   * read(), then checkHead() into `scratch`, in one thread-pool job of the addon (native/read.cc):
   * one round trip per read instead of two. The head is read after the data, as before, so a
   * replacement between the two shows. Undefined without the addon: read() and checkHead() then.
   */
  readThenHead(buf: Buffer, length: number, scratch: Buffer): Promise<{ n: number; head: 'same' | 'changed' }> | undefined {
    const fn = nativeReadWithHead();
    if (fn === undefined) return undefined;
    const job = new Promise<{ n: number; headBytes: number }>((resolve, reject) =>
      fn(this.fh.fd, buf, length, this.offset, scratch, HEAD_MAX, (err, n, headBytes) => (err ? reject(err) : resolve({ n: n!, headBytes: headBytes! }))),
    );
    // The fd stays open until the job is done (finish() and close() wait): the FileHandle does not know of it.
    const settled = job.then(
      () => undefined,
      () => undefined,
    );
    this.reading = settled;
    void settled.then(() => {
      if (this.reading === settled) this.reading = undefined;
    });
    return job.then(({ n, headBytes }) => ({ n, head: this.compareHead(scratch, headBytes, this.head.length > 0 || this.offset === 0) }));
  }

  /** A readThenHead job still running (the fd must stay open until it is done). */
  private reading: Promise<undefined> | undefined;

  async fsize(): Promise<number> {
    const st = await this.fh.stat();
    this.size = st.size;
    return st.size;
  }

  /** Hard links left (0 = deleted). */
  async nlink(): Promise<number> {
    return (await this.fh.stat()).nlink;
  }

  get phase(): Phase {
    return this.current;
  }

  /** The one place the phase changes (throws on a transition the lifecycle does not have). */
  to(ev: LifeEvent): void {
    this.current = nextPhase(this.current, ev);
    if (ev === 'leave' || ev === 'continue' || ev === 'adopt') this.goneAt = Date.now();
  }

  /** Left its path or a copy: read to its end, then closed. */
  get gone(): boolean {
    return isGone(this.phase);
  }

  /** Followed at its path (not gone, not a copy, not closed). */
  get following(): boolean {
    return isFollowing(this.phase);
  }

  get isCopy(): boolean {
    return isCopy(this.phase);
  }

  get open(): boolean {
    return isOpen(this.phase);
  }

  /** Gone, read to its end before, and rotate_wait passed: the next read to its end closes it. */
  finishing(now: number, rotateWaitMs: number): boolean {
    return isGoneAtEnd(this.phase) && now - this.goneAt >= rotateWaitMs;
  }

  /** Must this file wait for the one it replaced (see holdsSuccessor)? */
  get gated(): boolean {
    const a = this.after;
    return !!a && holdsSuccessor(a.phase, a.partial);
  }

  /** `first` is read before this file, after the file this one already waits for (if still open). */
  readAfter(first: TailFile): void {
    if (this.after?.open) first.after = this.after;
    this.after = first;
  }

  /**
   * This just opened file continues stream `s` (under `path` as meta.path) from `s.offset`,
   * taking its commit queue over: as a copytruncate copy ('adopt') or as a file rotated away
   * while we were stopped ('continue'). Either way it is read to its end, then closed.
   */
  continueStream(s: Stream, path: string, realPath: string, tag: string, how: 'adopt' | 'continue'): void {
    this.path = path;
    this.realPath = realPath;
    this.tag = tag;
    this.useSid(s.sid, s.gen);
    this.startAt(s.offset);
    if (s.queue) {
      this.queue = s.queue;
      s.queue.owner = this;
    }
    this.inLong = s.inLong ?? false;
    this.to(how);
  }

  /** Read to its end after it went, rotate_wait passed: closed for good. */
  async finish(): Promise<void> {
    this.to('finish');
    await this.reading;
    await this.fh.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.to('close');
    await this.reading;
    await this.fh.close().catch(() => undefined);
  }
}
