/**
 * Forward protocol v1 messages: encoding PackedForward frames (sender), decoding every event
 * mode (Message, Forward, PackedForward, CompressedPackedForward) on the receiver, acks and the
 * qlog heartbeat frame. See docs/protocol.md.
 */
import { lazyModule } from '../lazy.js';
import { lineBlocks, type Chunk, type LogRecord, type RecordMeta } from '../record.js';
import { packr, unpackr } from './codec-packr.js';
import { EntryWriter } from './entry-encoder.js';
import { EntryReader, type FastEntry, type LineScan } from './entry-decoder.js';
import { HEADER_OK, readHeader, type Header } from './msgpack-header.js';
import { wireTimeToNs } from './event-time.js';
import { QlogError, type IdsOf } from '../errors.js';

const zlib = lazyModule<typeof import('node:zlib')>('node:zlib');

/** The header being read by packedFrame. */
const header: Header = { head: 0, payload: 0, children: 0 };

export { packr, unpackr };

/** Key of the record map that carries qlog's metadata (meta.src, meta.seq, meta.path ...). */
export const META_KEY = '_qlog';
/** Tag of heartbeat frames: a Forward-mode message with no entries. */
export const HEARTBEAT_TAG = '_qlog.heartbeat';
/** Option key of a heartbeat frame: the sender's heartbeat interval in milliseconds. */
export const HEARTBEAT_OPTION = 'qlog_heartbeat';
export const MAX_TAG_LENGTH = 256;

/** Valid msgpack that is not a Forward message (code QLOG_ERR_FORWARD_PROTOCOL). */
export class ProtocolError<I extends IdsOf<'QLOG_ERR_FORWARD_PROTOCOL'> = IdsOf<'QLOG_ERR_FORWARD_PROTOCOL'>> extends QlogError<I> {
  override name = 'ProtocolError';
}

// ---------------------------------------------------------------- encoding (sender)

/**
 * The PackedForward payload: concatenated `[EventTime, map]` entries. A string body travels as
 * `{log: line}`; the record's meta rides under `_qlog`.
 */
export function encodeEntries(records: readonly LogRecord[]): Buffer {
  let cap = 256;
  for (let i = 0; i < records.length; i++) {
    const b = records[i]!.body;
    cap += typeof b === 'string' ? b.length + 128 : 256;
  }
  const w = new EntryWriter(cap, META_KEY);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    w.entry(r.time, r.body, r.meta);
  }
  return w.result();
}

export interface EntryPart {
  /** Concatenated entries (a view into one buffer). */
  entries: Buffer;
  /** Number of entries. */
  count: number;
}

/** Reused by encodeEntryParts: one buffer for every chunk instead of a new one per chunk. */
let scratch = new EntryWriter(1 << 20, META_KEY);
/** A scratch buffer grown past this by one huge chunk is dropped after it. */
const SCRATCH_KEEP = 8 << 20;

/**
 * encodeEntries, cut into parts of at most `maxBytes` each (at entry boundaries), so no frame
 * exceeds what the receiver accepts. An entry bigger than `maxBytes` on its own cannot be sent:
 * it is left out and counted in `oversized`.
 *
 * The parts are views into a scratch buffer that the next call overwrites: frame them
 * (encodePackedForward copies) or copy them before anything else encodes (before any await).
 * Encoding a chunk therefore allocates nothing but its frames.
 */
export function encodeEntryParts(chunk: Chunk | readonly LogRecord[], maxBytes: number): { parts: EntryPart[]; oversized: number } {
  if (scratch.capacity > SCRATCH_KEEP) scratch = new EntryWriter(1 << 20, META_KEY);
  const w = scratch;
  w.reset();
  const bounds: number[] = [0];
  writeChunk(w, chunk, (offset) => void bounds.push(offset));
  const all = w.result();
  const parts: EntryPart[] = [];
  let oversized = 0;
  let start = 0;
  let count = 0;
  for (let i = 1; i < bounds.length; i++) {
    const size = bounds[i]! - bounds[i - 1]!;
    if (size > maxBytes) {
      if (count) parts.push({ entries: all.subarray(start, bounds[i - 1]), count });
      oversized++;
      start = bounds[i]!;
      count = 0;
      continue;
    }
    if (bounds[i]! - start > maxBytes) {
      parts.push({ entries: all.subarray(start, bounds[i - 1]), count });
      start = bounds[i - 1]!;
      count = 0;
    }
    count++;
  }
  if (count) parts.push({ entries: all.subarray(start), count });
  return { parts, oversized };
}

/**
 * The entries of `chunk` written straight into `frame` from `start` on, when they make one
 * message of at most `maxBytes` and fit in `frame`; else undefined (encodeEntryParts then, which
 * may cut them into parts). packedForwardAround() then puts the message around them in place:
 * no copy of the entries into a frame.
 */
export function encodeEntriesInto(chunk: Chunk, maxBytes: number, frame: Buffer, start: number): EntryPart | undefined {
  const w = EntryWriter.over(frame, start, META_KEY);
  const count = writeChunk(w, chunk);
  if (w.buffer !== frame || w.offset > maxBytes) return undefined;
  return { entries: w.result(), count };
}

/**
 * The entries of a chunk (or of records) into `w`: lines kept as bytes (tail) copied straight
 * from their blocks, else each record. `after` hears the offset after each entry. Returns the
 * number of entries.
 */
function writeChunk(w: EntryWriter, chunk: Chunk | readonly LogRecord[], after?: (offset: number) => void): number {
  const blocks = Array.isArray(chunk) ? undefined : lineBlocks(chunk as Chunk);
  if (blocks) {
    let count = 0;
    for (const b of blocks) {
      w.lines(b, 0, b.count, after);
      count += b.count;
    }
    return count;
  }
  const records = Array.isArray(chunk) ? (chunk as readonly LogRecord[]) : (chunk as Chunk).records;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    w.entry(r.time, r.body, r.meta);
    after?.(w.offset);
  }
  return records.length;
}

/** Bytes of a PackedForward message before its entries: at most this much room for `tag`. */
export function packedForwardHeadRoom(tag: string): number {
  return 1 + 5 + Buffer.byteLength(tag) + 5;
}

/**
 * The message of encodePackedForward around `entries`, which lie in `frame` with at least
 * packedForwardHeadRoom(tag) bytes before them: the head is written just before them and the
 * options just after. The message as a view of `frame`, or undefined when the options do not fit
 * after the entries.
 */
export function packedForwardAround(tag: string, frame: Buffer, entries: Buffer, o: PackedForwardOptions): Buffer | undefined {
  const start = entries.byteOffset - frame.byteOffset;
  const end = start + entries.length;
  const { head, tail } = packedForwardEnds(tag, entries.length, o);
  if (head.length > start || end + tail.length > frame.length) return undefined;
  head.copy(frame, start - head.length);
  tail.copy(frame, end);
  return frame.subarray(start - head.length, end + tail.length);
}

function binHeader(n: number): Buffer {
  if (n < 0x100) return Buffer.from([0xc4, n]);
  if (n < 0x10000) return Buffer.from([0xc5, n >> 8, n & 0xff]);
  const h = Buffer.allocUnsafe(5);
  h[0] = 0xc6;
  h.writeUInt32BE(n, 1);
  return h;
}

export interface PackedForwardOptions {
  /** Ask the receiver for `{ack: chunk}` once it has the events. */
  chunk?: string;
  /** Number of events (the `size` option). */
  size: number;
  /** `entries` is gzip-compressed (CompressedPackedForward). */
  gzip?: boolean;
}

/**
 * `[tag, <bin entries>, {chunk, size, compressed?}]` as one buffer: a new one, or the start of
 * the one `alloc(size)` gives. `entries` may come in pieces (concatenated).
 */
export function encodePackedForward(tag: string, entries: Buffer | readonly Buffer[], o: PackedForwardOptions, alloc?: (size: number) => Buffer): Buffer {
  // Entries in pieces (sealed units: their bytes are not copied into one buffer first).
  const pieces = Buffer.isBuffer(entries) ? [entries] : (entries as readonly Buffer[]);
  let n = 0;
  for (const p of pieces) n += p.length;
  const { head, tail } = packedForwardEnds(tag, n, o);
  const size = head.length + n + tail.length;
  if (!alloc) return Buffer.concat([head, ...pieces, tail], size);
  const out = alloc(size);
  head.copy(out, 0);
  let pos = head.length;
  for (const p of pieces) pos += p.copy(out, pos);
  tail.copy(out, pos);
  return out.subarray(0, size);
}

/** What comes before `n` bytes of entries in a PackedForward message (`[tag, <bin header>`) and after them (the options). */
function packedForwardEnds(tag: string, n: number, o: PackedForwardOptions): { head: Buffer; tail: Buffer } {
  const opt: Record<string, unknown> = { size: o.size };
  if (o.chunk !== undefined) opt.chunk = o.chunk;
  if (o.gzip) opt.compressed = 'gzip';
  return { head: Buffer.concat([Buffer.from([0x93]), packr.pack(tag), binHeader(n)]), tail: packr.pack(opt) };
}

/** `[_qlog.heartbeat, [], {chunk, qlog_heartbeat: ms}]`: acked by any Forward receiver, emits nothing. */
export function encodeHeartbeat(chunk: string, intervalMs: number): Buffer {
  return packr.pack([HEARTBEAT_TAG, [], { chunk, [HEARTBEAT_OPTION]: intervalMs }]);
}

export function encodeAck(chunk: unknown): Buffer {
  return packr.pack({ ack: chunk });
}

// ---------------------------------------------------------------- decoding (receiver)

const TAG_OK = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * Tags from the wire may only hold [A-Za-z0-9._-], up to 256 characters, not start with '.' and
 * not contain '..' (so a tag used in a file name can never climb out of a directory). Anything
 * else is rewritten: bad characters become '_', runs of dots one dot.
 */
export function sanitizeTag(tag: string): string {
  if (tag.length <= MAX_TAG_LENGTH && TAG_OK.test(tag) && !tag.includes('..')) return tag;
  let t = tag
    .slice(0, MAX_TAG_LENGTH)
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/\.{2,}/g, '.');
  if (t.startsWith('.')) t = `_${t.slice(1)}`;
  return t || '_';
}

export interface DecodedEvents {
  /** The tag after sanitizeTag. */
  tag: string;
  /** true when the wire tag had to be rewritten. */
  tagRewritten: boolean;
  /** Decoded records (meta from `_qlog` restored; the receiver adds the peer identity). */
  records: LogRecord[];
  /**
   * With DecodeLimits.lines, when every entry is a plain line (or every one a sealed unit,
   * `scan.sealed`): the entries, not decoded (records
   * is then empty). `entries` is a view into the message's memory, valid during onEvents only;
   * `scan` is the reader's (reused by its next scan). decodeEntries makes the records.
   */
  lines?: { entries: Buffer; scan: LineScan };
  /** The `chunk` option as a string key (bin chunks are base64), if an ack was requested. */
  chunk?: string;
  /** The `chunk` option exactly as received, echoed in the ack. */
  ackValue?: unknown;
  /** Entries skipped because they were not [time, map]. */
  invalid: number;
  /** Set for qlog heartbeat frames: the sender's interval in ms. */
  heartbeatMs?: number;
  mode: 'message' | 'forward' | 'packed' | 'compressed';
}

export interface DecodeLimits {
  /** Largest decompressed CompressedPackedForward payload. */
  maxDecompressed: number;
  /** Reader for PackedForward entries (one per connection keeps its caches warm). */
  reader?: EntryReader;
  /** Return entries that are all plain lines (or all sealed units) undecoded (DecodedEvents.lines). */
  lines?: boolean;
}

const sharedReader = new EntryReader();

function isMap(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

function cleanMeta(q: Record<string, unknown>): RecordMeta {
  const meta: RecordMeta = { ...q };
  if (meta.src !== undefined && typeof meta.src !== 'string') delete meta.src;
  if (meta.seq !== undefined && (typeof meta.seq !== 'number' || !Number.isFinite(meta.seq))) delete meta.seq;
  if (meta.path !== undefined && typeof meta.path !== 'string') delete meta.path;
  if (meta.host !== undefined && typeof meta.host !== 'string') delete meta.host;
  return meta;
}

/** One entry `[time, map]` (or Fluent Bit's `[[time, metadata], map]`) as a record, or undefined. */
function toRecord(tag: string, time: unknown, rec: unknown): LogRecord | undefined {
  if (Array.isArray(time)) time = time[0];
  const ns = wireTimeToNs(time);
  if (ns === undefined || !isMap(rec)) return undefined;
  const q = rec[META_KEY];
  if (q === undefined) return { time: ns, tag, body: rec, meta: {} };
  const meta = isMap(q) ? cleanMeta(q) : {};
  let keys = 0;
  for (const _ in rec) keys++;
  if (keys === 2 && typeof rec.log === 'string') return { time: ns, tag, body: rec.log, meta };
  const body: Record<string, unknown> = {};
  for (const k in rec) if (k !== META_KEY) body[k] = rec[k];
  return { time: ns, tag, body, meta };
}

/** A record from the entry reader's fast path (same result as toRecord on msgpackr's output). */
function fastRecord(tag: string, e: FastEntry): LogRecord {
  const meta: RecordMeta = e.meta ?? {};
  if (e.n === 1 && e.metaPresent && e.keys[0] === 'log' && typeof e.values[0] === 'string') return { time: e.time, tag, body: e.values[0], meta };
  const body: Record<string, unknown> = {};
  for (let i = 0; i < e.n; i++) body[e.keys[i]!] = e.values[i];
  if (e.metaPresent && e.n > 1) {
    // Duplicate keys collapse: a map that ends up as {log: string} is still a line.
    let keys = 0;
    for (const _ in body) keys++;
    if (keys === 1 && typeof body.log === 'string') return { time: e.time, tag, body: body.log, meta };
  }
  return { time: e.time, tag, body, meta };
}

function readOptions(opt: unknown, out: DecodedEvents): Record<string, unknown> | undefined {
  if (opt === undefined || opt === null) return undefined;
  if (!isMap(opt)) throw new ProtocolError('QLOG_ERR_FORWARD_PROTOCOL/option');
  const c = opt.chunk;
  if (c !== undefined && c !== null) {
    if (typeof c === 'string') out.chunk = c;
    else if (c instanceof Uint8Array) out.chunk = Buffer.from(c).toString('base64');
    else throw new ProtocolError('QLOG_ERR_FORWARD_PROTOCOL/chunk');
    out.ackValue = c;
  }
  return opt;
}

function readEntries(reader: EntryReader, entries: Buffer, tag: string, out: { records: LogRecord[]; invalid: number }): void {
  const records = out.records;
  try {
    reader.read(
      entries,
      (e) => records.push(fastRecord(tag, e)),
      (e) => {
        const r = Array.isArray(e) ? toRecord(tag, e[0], e[1]) : undefined;
        if (r) records.push(r);
        else out.invalid++;
      },
    );
  } catch (err) {
    throw new ProtocolError('QLOG_ERR_FORWARD_PROTOCOL/entries', { reason: (err as Error).message });
  }
}

/** The records of PackedForward entries (that decodeEvents returned as `lines`), as decodeEvents makes them. */
export function decodeEntries(entries: Buffer, tag: string): LogRecord[] {
  const out = { records: [] as LogRecord[], invalid: 0 };
  readEntries(sharedReader, entries, tag, out);
  return out.records;
}

/**
 * Decode an event frame (already unpacked) into records. Throws ProtocolError when the frame is
 * not a Forward message at all; entries that are not [time, map] are skipped and counted.
 */
export function decodeEvents(msg: unknown, limits: DecodeLimits): DecodedEvents {
  if (!Array.isArray(msg) || msg.length < 2 || msg.length > 4)
    throw new ProtocolError('QLOG_ERR_FORWARD_PROTOCOL', { found: Array.isArray(msg) ? `an array of ${msg.length}` : typeof msg });
  const wireTag = msg[0];
  if (typeof wireTag !== 'string' || wireTag.length === 0) throw new ProtocolError('QLOG_ERR_FORWARD_PROTOCOL/tag');
  const tag = sanitizeTag(wireTag);
  const out: DecodedEvents = { tag, tagRewritten: tag !== wireTag, records: [], invalid: 0, mode: 'forward' };
  const second = msg[1];
  if (Array.isArray(second)) {
    // Forward mode: [tag, [[time, record], ...], option?]
    if (msg.length > 3) throw new ProtocolError('QLOG_ERR_FORWARD_PROTOCOL/forward-length');
    const opt = readOptions(msg[2], out);
    if (opt && typeof opt[HEARTBEAT_OPTION] === 'number' && wireTag === HEARTBEAT_TAG) out.heartbeatMs = opt[HEARTBEAT_OPTION];
    for (const e of second) {
      const r = Array.isArray(e) ? toRecord(tag, e[0], e[1]) : undefined;
      if (r) out.records.push(r);
      else out.invalid++;
    }
    return out;
  }
  if (second instanceof Uint8Array || typeof second === 'string') {
    // PackedForward / CompressedPackedForward: [tag, <bin entries>, option?]. The spec says a
    // server MUST accept the entries as str too (older clients); unpackFrame keeps those bytes
    // raw, a string here only comes from a caller that decoded the frame itself.
    if (msg.length > 3) throw new ProtocolError('QLOG_ERR_FORWARD_PROTOCOL/packed-length');
    const opt = readOptions(msg[2], out);
    let entries = typeof second === 'string' ? Buffer.from(second, 'utf8') : Buffer.from(second.buffer, second.byteOffset, second.byteLength);
    const comp = opt?.compressed;
    if (comp === 'gzip') {
      out.mode = 'compressed';
      try {
        entries = zlib().gunzipSync(entries, { maxOutputLength: limits.maxDecompressed });
      } catch (err) {
        throw new ProtocolError('QLOG_ERR_FORWARD_PROTOCOL/gunzip', { max: limits.maxDecompressed, reason: (err as Error).message });
      }
    } else if (comp !== undefined && comp !== 'text') throw new ProtocolError('QLOG_ERR_FORWARD_PROTOCOL/compression', { found: JSON.stringify(comp) });
    else out.mode = 'packed';
    if (entries.length === 0) return out;
    const reader = limits.reader ?? sharedReader;
    const scan = limits.lines ? reader.scanLines(entries) : undefined;
    if (scan !== undefined) {
      out.lines = { entries, scan };
      return out;
    }
    readEntries(reader, entries, tag, out);
    return out;
  }
  // Message mode: [tag, time, record, option?]
  out.mode = 'message';
  if (msg.length < 3) throw new ProtocolError('QLOG_ERR_FORWARD_PROTOCOL/message-length');
  readOptions(msg[3], out);
  const r = toRecord(tag, second, msg[2]);
  if (r) out.records.push(r);
  else out.invalid++;
  return out;
}

/**
 * A PackedForward frame `[tag, <bin or str entries>, option?]` read by hand: the entries stay a
 * view into the frame (msgpackr copies bin values, see codec-packr.ts, and would decode str
 * entries as UTF-8, mangling them), to be decoded before the frame's memory is reused.
 * Undefined for any other shape.
 */
function packedFrame(frame: Buffer): unknown[] | undefined {
  const n = frame[0] === 0x92 ? 2 : frame[0] === 0x93 ? 3 : 0;
  if (n === 0 || frame.length < 3) return undefined;
  // The tag: a str.
  let p = 1;
  if (!isStr(frame[p]!) || readHeader(frame, p, frame.length, header) !== HEADER_OK) return undefined;
  const tagEnd = p + header.head + header.payload;
  if (tagEnd > frame.length) return undefined;
  const tag = frame.toString('utf8', p + header.head, tagEnd);
  // The entries: a bin, or a str.
  p = tagEnd;
  const b = frame[p];
  if (b === undefined || !(isStr(b) || (b >= 0xc4 && b <= 0xc6)) || readHeader(frame, p, frame.length, header) !== HEADER_OK) return undefined;
  const start = p + header.head;
  p = start + header.payload;
  if (p > frame.length) return undefined;
  const entries = frame.subarray(start, p);
  if (n === 2) return p === frame.length ? [tag, entries] : undefined;
  if (p >= frame.length) return undefined;
  return [tag, entries, unpackr.unpack(frame.subarray(p))];
}

function isStr(b: number): boolean {
  return (b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb);
}

/** msgpack -> JS for one whole frame; garbage becomes a ProtocolError. */
export function unpackFrame(frame: Buffer): unknown {
  try {
    return packedFrame(frame) ?? unpackr.unpack(frame);
  } catch (err) {
    throw new ProtocolError('QLOG_ERR_FORWARD_PROTOCOL/msgpack', { reason: (err as Error).message });
  }
}
