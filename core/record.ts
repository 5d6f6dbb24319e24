/**
 * Records and chunks: the unit of data (record) and the unit of work (chunk).
 * Hooks fire per chunk, never per record.
 */

/** Metadata travelling with a record. Well-known keys are typed; plugins may add their own. */
export interface RecordMeta {
  /** File the line came from (tail). */
  path?: string;
  /** Host name of the agent that produced the record. */
  host?: string;
  /** vsock CID of the peer the record arrived from (vsock input). */
  cid?: number;
  /** Peer identity for non-vsock transports, e.g. "unix:/run/q.sock#3" or "tcp:127.0.0.1:5000". */
  peer?: string;
  /** Stable id of the byte stream the record came from (tail: file identity + generation). */
  src?: string;
  /** Position of the record's end in its source (tail: byte offset after the line); monotonic per src. */
  seq?: number;
  /** Set when the line was longer than the input's limit and was split/truncated. */
  truncated?: boolean;
  /** Set when the line held bytes that are not valid UTF-8 (they were replaced by U+FFFD). */
  invalid_utf8?: boolean;
  [key: string]: unknown;
}

export type RecordBody = string | { [key: string]: unknown };

export interface LogRecord {
  /** Event time in nanoseconds since the Unix epoch. */
  time: bigint;
  tag: string;
  /** A log line (without its line terminator) or a structured object. */
  body: RecordBody;
  meta: RecordMeta;
}

/** Flags of a line in a LineBlock (the same bits as the records' meta flags they become). */
export const LINE_TRUNCATED = 1;
export const LINE_INVALID_UTF8 = 2;

/**
 * Lines kept as the bytes they were read as: no string, record or metadata object per line
 * until something asks for records (see LineChunk). Line i is `buf[starts[i], ends[i])`
 * (terminator removed); its meta.seq is `base + seqs[i]`. Every line shares time, path and src.
 */
export interface LineBlock {
  /**
   * Holds the lines (and may be longer). It can be a pooled read buffer that is reused once the
   * chunk settled: copy what you keep beyond that (records are copies already).
   */
  readonly buf: Buffer;
  readonly count: number;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  /** meta.seq of each line, relative to `base`. */
  readonly seqs: Uint32Array;
  readonly base: number;
  /** LINE_* flags per line, or undefined when no line has any. */
  readonly flags: Uint8Array | undefined;
  /** Every byte is ASCII (latin1 decoding is exact and faster). */
  readonly ascii: boolean;
  readonly time: bigint;
  /** meta.path and meta.src of every line; `pathKey`, when set, repeats the path under that key. */
  readonly path: string;
  readonly src: string;
  readonly pathKey: string;
}

type FastSlices = Buffer & { latin1Slice(s: number, e: number): string; utf8Slice(s: number, e: number): string };

/** The line's text: what the record body of line i is. */
export function blockLine(b: LineBlock, i: number): string {
  const buf = b.buf as FastSlices;
  return b.ascii ? buf.latin1Slice(b.starts[i]!, b.ends[i]!) : buf.utf8Slice(b.starts[i]!, b.ends[i]!);
}

/** The record of line i: `{time, tag, body: line, meta: {path, src, seq, [pathKey], truncated?, invalid_utf8?}}`. */
export function blockRecord(b: LineBlock, i: number, tag: string): LogRecord {
  const meta: RecordMeta = { path: b.path, src: b.src, seq: b.base + b.seqs[i]! };
  if (b.pathKey) meta[b.pathKey] = b.path;
  const f = b.flags === undefined ? 0 : b.flags[i]!;
  if (f !== 0) {
    if (f & LINE_TRUNCATED) meta.truncated = true;
    if (f & LINE_INVALID_UTF8) meta.invalid_utf8 = true;
  }
  return { time: b.time, tag, body: blockLine(b, i), meta };
}

/** The records of every line of `blocks`, in order (a new array). */
export function blockRecords(blocks: readonly LineBlock[], tag: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const b of blocks) for (let i = 0; i < b.count; i++) out.push(blockRecord(b, i, tag));
  return out;
}

/** Memory a queued line of a LineBlock takes beyond its bytes (its offsets and flag). */
export const LINE_OVERHEAD = 13;

/**
 * A chunk whose records are kept packed, as blocks of bytes, until something asks for them.
 * `records` is built on first access (and from then on is an ordinary array the holder may
 * change); until then an output that understands the blocks can use the bytes directly. The
 * engine hands filters plain chunks.
 */
export abstract class PackedChunk<B extends { readonly count: number }> implements Chunk {
  private recs: LogRecord[] | undefined;
  private blks: B[] | undefined;
  private readonly n: number;

  constructor(
    readonly id: string,
    readonly tag: string,
    blocks: B[],
    public bytes: number,
  ) {
    this.blks = blocks;
    let n = 0;
    for (const b of blocks) n += b.count;
    this.n = n;
  }

  /** The records of every block, in order (a new array). */
  protected abstract build(blocks: readonly B[]): LogRecord[];

  /** A chunk of the same kind holding `blocks` (how an output merges queued chunks). */
  abstract with(id: string, blocks: B[], bytes: number): PackedChunk<B>;

  /** Memory the blocks hold (for buffer limits), while records were never built. */
  protected abstract blocksCost(blocks: readonly B[]): number;

  get records(): LogRecord[] {
    if (this.recs === undefined) {
      this.recs = this.build(this.blks!);
      this.blks = undefined;
    }
    return this.recs;
  }

  set records(r: LogRecord[]) {
    this.recs = r;
    this.blks = undefined;
  }

  /** The blocks, as long as nobody asked for records (then undefined: use `records`). */
  get blocks(): readonly B[] | undefined {
    return this.blks;
  }

  get count(): number {
    return this.blks ? this.n : this.recs!.length;
  }

  /** What holding the chunk costs in memory: its blocks, or its records once built. */
  cost(): number {
    return this.blks ? this.blocksCost(this.blks) : this.bytes + this.recs!.length * RECORD_OVERHEAD;
  }
}

/** A chunk of LineBlocks (tail): vsock-forward encodes their bytes directly. */
export class LineChunk extends PackedChunk<LineBlock> {
  protected build(blocks: readonly LineBlock[]): LogRecord[] {
    return blockRecords(blocks, this.tag);
  }

  with(id: string, blocks: LineBlock[], bytes: number): LineChunk {
    return new LineChunk(id, this.tag, blocks, bytes);
  }

  protected blocksCost(blocks: readonly LineBlock[]): number {
    let n = 0;
    for (const b of blocks) n += b.buf.length + b.count * LINE_OVERHEAD;
    return n;
  }
}

/**
 * Forwarded lines kept as the bytes they arrived in (the vsock input): the entries of one
 * Forward message, each a plain line `[time, {log: <str>, _qlog: {...}}]`. The line of entry i
 * (its record's body) is `buf[starts[i], ends[i])`, UTF-8 as sent and not checked (decode it
 * as the record would be: utf8Slice). Its meta.src, as the input annotates it, is
 * `srcs[srcOf[i]]` (-1: none) and its meta.seq `seqs[i]` (NaN: none). `build` makes the
 * records exactly as the input would have emitted them.
 */
export interface EntryBlock {
  readonly count: number;
  /** Holds the entries (and may be longer); reused once the chunk settled, as LineBlock.buf. */
  readonly buf: Buffer;
  /** Holds the arrays below (and may be longer); reused once the chunk settled. */
  readonly lines: Buffer;
  /** The entries' bytes + ENTRY_OVERHEAD per line: what the block costs in buffer limits. */
  readonly size: number;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly srcs: readonly string[];
  readonly srcOf: Int32Array;
  readonly seqs: Float64Array;
  /**
   * Set when every entry is a sealed unit instead (docs/sealing.md): entry i's bytes
   * `buf[starts[i], ends[i])` are the unit's (its `sealed` bin) and its line in a file is
   * `qlog-sealed/1 <src> <firsts[i]>-<lasts[i]> <base64>` (src: `srcs[srcOf[i]]`, '-' for none or
   * ''), exactly what sealedLine makes of its record. seqs[i] is NaN for a closing unit.
   */
  readonly units?: { readonly firsts: Float64Array; readonly lasts: Float64Array };
  build(tag: string): LogRecord[];
}

/** Bytes a line of an EntryBlock takes beyond its entry (seqs, starts, ends, srcOf: held in its `lines`). */
export const ENTRY_OVERHEAD = 20;

/** A chunk of EntryBlocks (vsock): rotated-file copies their lines' bytes into the file. */
export class EntryChunk extends PackedChunk<EntryBlock> {
  protected build(blocks: readonly EntryBlock[]): LogRecord[] {
    if (blocks.length === 1) return blocks[0]!.build(this.tag);
    const out: LogRecord[] = [];
    for (const b of blocks) for (const r of b.build(this.tag)) out.push(r);
    return out;
  }

  with(id: string, blocks: EntryBlock[], bytes: number): EntryChunk {
    return new EntryChunk(id, this.tag, blocks, bytes);
  }

  protected blocksCost(blocks: readonly EntryBlock[]): number {
    let n = 0;
    for (const b of blocks) n += b.size;
    return n;
  }
}

/** Records in a chunk, without building a packed chunk's records. */
export function recordCount(c: Chunk): number {
  return c instanceof PackedChunk ? c.count : c.records.length;
}

/** A LineChunk's blocks while its records were never built, else undefined. */
export function lineBlocks(c: Chunk): readonly LineBlock[] | undefined {
  return c instanceof LineChunk ? c.blocks : undefined;
}

/** An EntryChunk's blocks while its records were never built, else undefined. */
export function entryBlocks(c: Chunk): readonly EntryBlock[] | undefined {
  return c instanceof EntryChunk ? c.blocks : undefined;
}

/** A batch of records sharing one tag. */
export interface Chunk {
  /** Unique id; stays the same when the chunk is retried. */
  readonly id: string;
  readonly tag: string;
  records: LogRecord[];
  /** Approximate payload size in bytes (used for buffer limits and counters). */
  bytes: number;
}

/** Nanoseconds since the epoch, with sub-millisecond precision from the monotonic clock. */
const originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
export function nowNs(): bigint {
  return originNs + process.hrtime.bigint();
}

/** The line of a record: the body itself for strings, `log`/`message` (or JSON) for objects. */
export function recordLine(r: LogRecord): string {
  const b = r.body;
  if (typeof b === 'string') return b;
  const l = b.log ?? b.message;
  return typeof l === 'string' ? l : toJson(b);
}

/** Marks a bigint inside JSON.stringify's output; random, so no string from a record can forge it. */
const BIGINT_MARK = `\u0000qlog-int:${Math.random().toString(36).slice(2)}${Date.now().toString(36)}:`;
const BIGINT_MARKED = new RegExp(`"${JSON.stringify(BIGINT_MARK).slice(1, -1).replace(/\\/g, '\\\\')}(-?\\d+)"`, 'g');

/**
 * JSON.stringify that keeps integers beyond 2^53 (bigint, as msgpack int64 values arrive) as the
 * integers they are: JSON numbers have no size limit, only JavaScript's do. Costs nothing when
 * there is no bigint.
 */
export function toJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? BIGINT_MARK + x.toString() : x)).replace(BIGINT_MARKED, '$1');
  }
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * Whole seconds since the epoch as ISO 8601 UTC without the fraction: 2023-11-14T22:13:20.
 * Calendar arithmetic (days to civil date), not Date: the first toISOString() of a process costs
 * ~0.8 MiB of RSS, which an idle agent with a resource input paid for its one line every few
 * seconds (issue 16). Years outside 0-9999 (written +YYYYYY by Date) go to Date; NaN and
 * infinities give ''.
 */
export function isoUtcSeconds(sec: number): string {
  if (!Number.isFinite(sec)) return '';
  const s = Math.floor(sec);
  const days = Math.floor(s / 86_400);
  const inDay = s - days * 86_400;
  // Shift the epoch to 0000-03-01, so that a leap day is the last day of its (March-based) year.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097; // 0-146096
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153); // 0 = March ... 11 = February
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) {
    const d = new Date(s * 1000);
    return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, -5);
  }
  const hour = Math.floor(inDay / 3600);
  const minute = Math.floor((inDay % 3600) / 60);
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}:${two(inDay % 60)}`;
}

let lastSec = -1n;
let lastPrefix = '';
/**
 * A time in ns as ISO 8601 UTC with all nine fraction digits: 2023-11-14T22:13:20.123456789Z
 * ('' for a time before 1970 or out of range). The date part is kept per second: outputs format
 * every record's time, and records come in runs from the same second.
 */
export function isoTimeNs(ns: bigint): string {
  if (ns < 0n) return '';
  const sec = ns / 1_000_000_000n;
  if (sec !== lastSec) {
    const prefix = isoUtcSeconds(Number(sec)); // ...T22:13:20
    if (!prefix) return '';
    lastPrefix = prefix;
    lastSec = sec;
  }
  return `${lastPrefix}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** Approximate size of a record's payload in bytes (exact for ASCII string bodies). */
export function recordBytes(r: LogRecord): number {
  const b = r.body;
  if (typeof b === 'string') return b.length + 1;
  let n = 2;
  for (const k in b) {
    const v = b[k];
    n += k.length + 4 + (typeof v === 'string' ? v.length : 8);
  }
  return n;
}

/**
 * Memory a queued record takes beyond its payload bytes (the record and metadata objects, the
 * time, the string header), measured at ~150 bytes on Node 20. Buffer limits count it, so
 * buffer_limit bounds memory, not only line bytes.
 */
export const RECORD_OVERHEAD = 160;

/** What holding a chunk costs in memory, for buffer limits. */
export function chunkCost(c: Chunk): number {
  return c instanceof PackedChunk ? c.cost() : c.bytes + c.records.length * RECORD_OVERHEAD;
}

export function chunkBytes(records: readonly LogRecord[]): number {
  let n = 0;
  for (let i = 0; i < records.length; i++) n += recordBytes(records[i]!);
  return n;
}

/**
 * The chunk id sequence, one per process: shared through the global object by every copy of
 * this module (the engine's, and the one in the CommonJS SDK bundle that CJS plugins load).
 */
const chunkIds = ((globalThis as Record<symbol, unknown>)[Symbol.for('qlog.chunkIds')] ??= {
  prefix: `${process.pid.toString(36)}.${Date.now().toString(36)}.`,
  seq: 0,
}) as { prefix: string; seq: number };
/** Process-unique chunk id (unique across restarts too, thanks to pid + start time). */
export function newChunkId(): string {
  return chunkIds.prefix + (chunkIds.seq++).toString(36);
}
