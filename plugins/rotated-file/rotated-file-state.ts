/**
 * Delivery state of one output file, kept in the state directory. It records what the file holds:
 *  - `ino` + `size`: the live file and its length after the last acknowledged write. After a
 *    crash, bytes past `size` were written but never acknowledged: they are cut off before
 *    writing again, and the sender (which never got the ack) sends them again.
 *  - `hw`: per source (meta.src), the highest meta.seq written. A record at or below its
 *    source's mark is a duplicate resent after a restart of either side: it is skipped.
 *  - `rotating`: set just before the live file is renamed to <file>.1, cleared once the new
 *    live file is open; lets a restart tell "rotation finished" from "rotation interrupted".
 *
 * Two files, kept together:
 *  - the base `<name>.json`: the whole state (JSON) and `gen`, the number of the last change it
 *    includes; replaced atomically (write a temp file, rename it over the old one; with fsync,
 *    sync the temp file and the directory too). State files of earlier versions (no `gen`, no
 *    journal) are bases of generation 0.
 *  - the journal `<name>.json.journal`: one line per change since the base, appended with one
 *    write each (a rename per acknowledged part cost ~0.1-0.6 ms, on the ack path):
 *    `<crc32 of the JSON, 8 hex digits> <JSON>\n`, the JSON `{g, s?, i?, r?, m?}`: its number
 *    (base's gen + 1, + 2, ...), the new size, the new inode, the rotating marker set (or null:
 *    cleared), and the marks the change moved ([src, seq] in the order they were merged).
 * Loading replays, on the base, the records that follow it in order, and stops at the first that
 * does not (a torn tail: a write cut by a crash; a bad checksum; a gap): what follows is ignored,
 * and the next change writes a new base instead of appending behind it. Records at or below the
 * base's gen are skipped: a crash between writing a new base and emptying the journal leaves them.
 * Once the journal passes JOURNAL_MAX bytes it is folded into a new base and emptied; closing the
 * file folds it and removes the journal, leaving the base alone. A base written while the journal
 * goes on says so (`journal: true`): found without it, its size may be older than the file's
 * acknowledged bytes, and cutting the file to it would lose them: it is not trusted (`lost`).
 */
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { lazyModule } from '../../core/lazy.js';

/** Sources remembered per file; the least recently written are forgotten beyond this. */
export const MAX_SOURCES = 1024;

/** Journal bytes beyond which it is folded into a new base. */
export const JOURNAL_MAX = 256 * 1024;

export interface FileState {
  /** Inode of the live file `size` refers to (null: no file yet). */
  ino: number | null;
  /** Bytes of the live file covered by acknowledged writes. */
  size: number;
  /** Present while a rotation is under way: the live file's inode and that of <file>.1 before it. */
  rotating?: { ino: number | null; first: number | null };
  /** Per source: highest seq written. Map order = least recently written first. */
  hw: Map<string, number>;
}

/** One change of the state: only the fields given change. */
export interface Delta {
  size?: number;
  ino?: number | null;
  /** Set the rotation marker, or clear it (null). */
  rotating?: { ino: number | null; first: number | null } | null;
  /** Marks to merge (mergeMarks). */
  marks?: Map<string, number>;
}

interface StateJson {
  v: 1;
  file: string;
  /** The last journal record this base includes (absent: 0). */
  gen?: number;
  /** Changes after this base are in the journal (written while the file is open): a missing journal was lost. */
  journal?: true;
  ino: number | null;
  size: number;
  rotating?: { ino: number | null; first: number | null };
  hw: [string, number][];
}

interface RecordJson {
  g: number;
  s?: number;
  i?: number | null;
  r?: { ino: number | null; first: number | null } | null;
  m?: [string, number][];
}

export function emptyState(): FileState {
  return { ino: null, size: 0, hw: new Map() };
}

export function copyState(s: FileState): FileState {
  const c: FileState = { ino: s.ino, size: s.size, hw: new Map(s.hw) };
  if (s.rotating) c.rotating = { ...s.rotating };
  return c;
}

export const journalPath = (statePath: string): string => `${statePath}.journal`;

/** Merge a part's marks into the state, moving touched sources to the end and forgetting the oldest. */
export function mergeMarks(s: FileState, marks: Map<string, number>): void {
  for (const [src, seq] of marks) {
    const old = s.hw.get(src);
    s.hw.delete(src);
    s.hw.set(src, old === undefined || seq > old ? seq : old);
  }
  if (s.hw.size > MAX_SOURCES) {
    let n = s.hw.size - MAX_SOURCES;
    for (const k of s.hw.keys()) {
      if (n-- <= 0) break;
      s.hw.delete(k);
    }
  }
}

export function applyDelta(s: FileState, d: Delta): void {
  if (d.size !== undefined) s.size = d.size;
  if (d.ino !== undefined) s.ino = d.ino;
  if (d.rotating === null) delete s.rotating;
  else if (d.rotating !== undefined) s.rotating = d.rotating;
  if (d.marks) mergeMarks(s, d.marks);
}

// ---- checksum (CRC-32, IEEE) ----

// zlib.crc32 (Node >= 20.15) is native: ~0.3 us a record, where the loop below takes ~3 us in the
// agent (run without the optimising compilers). Loaded on first use: an enclave never needs it.
const zlib = lazyModule<typeof import('node:zlib')>('node:zlib');

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 of bytes, in JavaScript (for a Node without zlib.crc32). */
export function crc32Js(buf: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** CRC-32 of bytes, or of a string's UTF-8. */
function crc32(data: string | Uint8Array): number {
  const native = (zlib() as { crc32?: (d: string | Uint8Array) => number }).crc32;
  if (native) return native(data);
  return crc32Js(typeof data === 'string' ? Buffer.from(data) : data);
}

// ---- base ----

interface Base {
  state: FileState;
  gen: number;
  journal: boolean;
}

/** How a base is written. */
export interface BaseOptions {
  /** Workspace-relative name of the output file (recorded in the base). */
  file: string;
  /** Sync the temp file and the directory. */
  durable: boolean;
  gen?: number;
  /** A journal follows this base. */
  journal?: boolean;
}

const isIno = (x: unknown): x is number | null => x === null || typeof x === 'number';
const isMarker = (x: unknown): x is { ino: number | null; first: number | null } =>
  typeof x === 'object' && x !== null && isIno((x as { ino?: unknown }).ino ?? null) && isIno((x as { first?: unknown }).first ?? null);

function readBase(path: string): Base | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const j = JSON.parse(text) as StateJson;
  if (j?.v !== 1 || typeof j.size !== 'number' || !Array.isArray(j.hw)) throw new Error(`unrecognised state file ${path}`);
  const s: FileState = {
    ino: typeof j.ino === 'number' ? j.ino : null,
    size: j.size,
    hw: new Map(j.hw.filter((e) => typeof e?.[0] === 'string' && typeof e[1] === 'number')),
  };
  if (j.rotating) s.rotating = { ino: j.rotating.ino ?? null, first: j.rotating.first ?? null };
  return { state: s, gen: Number.isSafeInteger(j.gen) && j.gen! > 0 ? j.gen! : 0, journal: j.journal === true };
}

function serialise(s: FileState, o: BaseOptions): string {
  const j: StateJson = { v: 1, file: o.file, gen: o.gen ?? 0, ino: s.ino, size: s.size, hw: [...s.hw] };
  if (s.rotating) j.rotating = s.rotating;
  if (o.journal) j.journal = true;
  return JSON.stringify(j);
}

let tmpSeq = 0;
const tmpName = (path: string) => `${path}.tmp-${process.pid}-${tmpSeq++}`;

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replace the base atomically, synchronously (rotation events cannot be awaited). */
export function saveStateSync(path: string, s: FileState, o: BaseOptions): void {
  const tmp = tmpName(path);
  const data = serialise(s, o);
  try {
    if (!o.durable) {
      writeFileSync(tmp, data);
    } else {
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, data);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not created, or renamed */
    }
    throw e;
  }
  if (o.durable) syncDir(dirname(path));
}

/** Replace the base atomically; with fsync on the thread pool (a sync may take long). */
export async function saveState(path: string, s: FileState, o: BaseOptions): Promise<void> {
  if (!o.durable) return saveStateSync(path, s, o);
  const tmp = tmpName(path);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(serialise(s, o));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const d = await open(dirname(path), 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

// ---- journal ----

/** A record's line: checksum, space, JSON, newline. */
export function encodeRecord(g: number, d: Delta): string {
  const r: RecordJson = { g };
  if (d.size !== undefined) r.s = d.size;
  if (d.ino !== undefined) r.i = d.ino;
  if (d.rotating !== undefined) r.r = d.rotating;
  if (d.marks?.size) r.m = [...d.marks];
  const json = JSON.stringify(r);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

const HEX = /^[0-9a-f]{8}$/;

/** The record in buf[start, end) (end: its newline), or undefined when it is not a valid one. */
function decodeRecord(buf: Buffer, start: number, end: number): { g: number; d: Delta } | undefined {
  if (end - start < 11 || buf[start + 8] !== 0x20) return undefined;
  const hex = buf.toString('latin1', start, start + 8);
  if (!HEX.test(hex) || parseInt(hex, 16) !== crc32(buf.subarray(start + 9, end))) return undefined;
  let r: RecordJson;
  try {
    r = JSON.parse(buf.toString('utf8', start + 9, end)) as RecordJson;
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.g)) return undefined;
  const d: Delta = {};
  if (r.s !== undefined) {
    if (typeof r.s !== 'number' || !(r.s >= 0)) return undefined;
    d.size = r.s;
  }
  if (r.i !== undefined) {
    if (!isIno(r.i)) return undefined;
    d.ino = r.i;
  }
  if (r.r !== undefined) {
    if (r.r !== null && !isMarker(r.r)) return undefined;
    d.rotating = r.r && { ino: r.r.ino ?? null, first: r.r.first ?? null };
  }
  if (r.m !== undefined) {
    if (!Array.isArray(r.m) || !r.m.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number')) return undefined;
    d.marks = new Map(r.m);
  }
  return { g: r.g, d };
}

/** What loading found. */
export interface Loaded {
  state: FileState;
  /** Number of the last change included. */
  gen: number;
  /** Whether the journal file exists. */
  journal: boolean;
  /**
   * The base says a journal follows, but there is none (copied or restored without it): the base
   * may be older than the file. Its size and inode are not trusted (the file is taken as it is,
   * nothing cut); its marks are kept (at worst, the last chunks written again).
   */
  lost: boolean;
  /** Bytes of the journal holding records replayed (appends may follow them when `clean`). */
  valid: number;
  /** Records skipped: at or below the base's gen (a crash while folding the journal). */
  stale: number;
  /** Bytes ignored after the last record replayed (a torn tail, a bad checksum, a gap). */
  ignored: number;
  /** The journal holds exactly the records replayed: appends may follow. */
  clean: boolean;
}

/** Read the base and replay its journal; missing files give an empty state, a corrupt base throws. */
export function loadState(path: string): Loaded {
  const base = readBase(path) ?? { state: emptyState(), gen: 0, journal: false };
  const s = base.state;
  let gen = base.gen;
  let buf: Buffer;
  try {
    buf = readFileSync(journalPath(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    if (base.journal) {
      s.ino = null;
      s.size = 0;
      delete s.rotating;
    }
    return { state: s, gen, journal: false, lost: base.journal, valid: 0, stale: 0, ignored: 0, clean: true };
  }
  let pos = 0;
  let stale = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const rec = decodeRecord(buf, pos, nl);
    if (!rec) break;
    if (rec.g <= base.gen && gen === base.gen) stale++;
    else if (rec.g === gen + 1) {
      applyDelta(s, rec.d);
      gen = rec.g;
    } else break;
    pos = nl + 1;
  }
  const ignored = buf.length - pos;
  return { state: s, gen, journal: true, lost: false, valid: pos, stale, ignored, clean: ignored === 0 && stale === 0 };
}

/** The state a restart would find (base + journal). */
export function readState(path: string): FileState {
  return loadState(path).state;
}

const fdatasyncAsync = promisify(fdatasync);

export interface StoreOptions {
  /** Sync the journal after each append, and the base and directory when they change. */
  durable: boolean;
  /** Workspace-relative name of the output file (recorded in the base). */
  file: string;
  journalMax?: number;
  /** A fold of the journal into the base failed (the journal is kept, and folded later). */
  onFoldError?: (err: Error) => void;
}

/**
 * The state of one output file and its files. `state` changes only once a change is recorded:
 * a failed commit leaves it (and, as far as it can, the files) as it was.
 */
export class StateStore {
  state: FileState;
  /** What loading found (for the caller to report). */
  readonly loaded: Omit<Loaded, 'state'>;
  readonly journal: string;
  private gen: number;
  private fd = -1;
  /** Journal bytes holding records that follow the base. */
  private len: number;
  private exists: boolean;
  /** The journal holds only records that follow the base: appends may follow. Else the next change writes a base. */
  private clean: boolean;
  /** Journal length at which to fold it into a base (pushed back after a failed attempt). */
  private foldAt: number;
  private readonly max: number;

  /** Loads the state (throws on a corrupt base). */
  constructor(
    readonly path: string,
    private readonly o: StoreOptions,
  ) {
    this.journal = journalPath(path);
    this.max = o.journalMax ?? JOURNAL_MAX;
    const { state, ...loaded } = loadState(path);
    this.loaded = loaded;
    this.state = state;
    this.gen = loaded.gen;
    this.len = loaded.valid;
    this.exists = loaded.journal;
    this.clean = loaded.clean;
    this.foldAt = this.max;
  }

  /** Record a change synchronously (in rotation events). */
  commitSync(d: Delta): void {
    if (!this.clean) return this.rebaseSync(d);
    const rec = this.append(d);
    if (this.o.durable) {
      try {
        fdatasyncSync(this.fd);
      } catch (e) {
        this.rollback();
        throw e;
      }
    }
    this.applied(d, rec);
    if (this.len > this.foldAt) this.foldSync();
  }

  /** Record a change; with fsync, the sync runs on the thread pool. */
  async commit(d: Delta): Promise<void> {
    if (!this.o.durable) return this.commitSync(d);
    if (!this.clean) return this.rebase(d);
    const rec = this.append(d);
    try {
      await fdatasyncAsync(this.fd);
    } catch (e) {
      this.rollback();
      throw e;
    }
    this.applied(d, rec);
    if (this.len > this.foldAt) await this.fold();
  }

  /** Fold the journal into the base and remove it (the writer closes). Throws when the base cannot be written: the journal stays. */
  close(): void {
    try {
      if (this.exists) {
        // Always: the base may say a journal follows.
        saveStateSync(this.path, this.state, this.base(false));
        this.closeFd();
        try {
          unlinkSync(this.journal);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
        this.exists = false;
        this.len = 0;
        this.clean = true;
      }
    } finally {
      this.closeFd();
    }
  }

  /** Append a change's record (one write); a failed or short write is cut off again. */
  private append(d: Delta): number {
    if (this.fd < 0) {
      const created = !this.exists;
      this.fd = openSync(this.journal, 'a');
      this.exists = true;
      if (created && this.o.durable) syncDir(dirname(this.journal));
    }
    const rec = Buffer.from(encodeRecord(this.gen + 1, d));
    let n: number;
    try {
      n = writeSync(this.fd, rec);
    } catch (e) {
      this.rollback();
      throw e;
    }
    if (n !== rec.length) {
      this.rollback();
      throw Object.assign(new Error(`short write to ${this.journal}: ${n} of ${rec.length} bytes (disk full?)`), { code: 'ENOSPC' });
    }
    return n;
  }

  private applied(d: Delta, bytes: number): void {
    applyDelta(this.state, d);
    this.gen++;
    this.len += bytes;
  }

  /**
   * Cut a record that was not (fully) recorded: the part it describes is cut from the file. If
   * even that fails, a base of the unchanged state is written at once, one generation on: it
   * outranks the record if the record was whole (its write succeeded but its sync failed) and the
   * agent dies before its next change; a restart must not take that record's marks for the lines
   * the writer cuts from the file. If the base fails too, the next change writes one.
   */
  private rollback(): void {
    this.clean = false;
    try {
      ftruncateSync(this.fd, this.len);
    } catch {
      try {
        this.rebaseSync({});
      } catch {
        /* the next change rebases (clean is false) */
      }
      return;
    }
    this.clean = true;
  }

  /** The journal holds garbage (or could not be cut): write the changed state as a new base, then empty the journal. */
  private rebaseSync(d: Delta): void {
    const next = copyState(this.state);
    applyDelta(next, d);
    saveStateSync(this.path, next, this.base(this.exists, 1));
    this.rebased(next);
  }

  private async rebase(d: Delta): Promise<void> {
    const next = copyState(this.state);
    applyDelta(next, d);
    await saveState(this.path, next, this.base(this.exists, 1));
    this.rebased(next);
  }

  private rebased(next: FileState): void {
    this.state = next;
    this.gen++;
    this.emptyJournal();
  }

  /** Fold the journal into a new base. A failure is not the change's: its record is in the journal; tried again later. */
  private foldSync(): void {
    try {
      saveStateSync(this.path, this.state, this.base(true));
    } catch (e) {
      this.foldFailed(e as Error);
      return;
    }
    this.emptyJournal();
  }

  private async fold(): Promise<void> {
    try {
      await saveState(this.path, this.state, this.base(true));
    } catch (e) {
      this.foldFailed(e as Error);
      return;
    }
    this.emptyJournal();
  }

  private foldFailed(e: Error): void {
    this.foldAt = this.len + this.max / 4;
    this.o.onFoldError?.(e);
  }

  /** After a new base: its records are stale. Left in place (not cut), the next change writes a base again. */
  private emptyJournal(): void {
    this.foldAt = this.max;
    if (!this.exists) {
      this.clean = true;
      return;
    }
    try {
      if (this.fd < 0) this.fd = openSync(this.journal, 'a');
      ftruncateSync(this.fd, 0);
    } catch {
      this.clean = false;
      return;
    }
    this.len = 0;
    this.clean = true;
  }

  /** How to write a base of generation gen (+ next): whether a journal follows it. */
  private base(journal: boolean, next = 0): BaseOptions {
    return { file: this.o.file, durable: this.o.durable, gen: this.gen + next, journal };
  }

  private closeFd(): void {
    this.fd = closeQuietly(this.fd);
  }
}

/** Close a descriptor (if open: >= 0), ignoring errors; returns -1 (closed). */
export function closeQuietly(fd: number): -1 {
  if (fd >= 0) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }
  return -1;
}
