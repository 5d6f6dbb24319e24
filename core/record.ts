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
  return typeof l === 'string' ? l : JSON.stringify(b);
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
export function chunkCost(c: { bytes: number; records: readonly unknown[] }): number {
  return c.bytes + c.records.length * RECORD_OVERHEAD;
}

export function chunkBytes(records: readonly LogRecord[]): number {
  let n = 0;
  for (let i = 0; i < records.length; i++) n += recordBytes(records[i]!);
  return n;
}

let chunkSeq = 0;
const chunkPrefix = `${process.pid.toString(36)}.${Date.now().toString(36)}.`;
/** Process-unique chunk id (unique across restarts too, thanks to pid + start time). */
export function newChunkId(): string {
  return chunkPrefix + (chunkSeq++).toString(36);
}
