/**
 * A hand-rolled msgpack writer for PackedForward entries: `[EventTime, {log: line, _qlog: meta}]`
 * (or `[EventTime, {...fields, _qlog: meta}]`) written straight into one growing buffer. Strings,
 * numbers, booleans, null and bytes (bin) are written here; anything else (nested objects,
 * arrays, bigint) goes through msgpackr. About 3x faster than one packr.pack() per record.
 */
import { nativeLines } from '../native-lines.js';
import { packr } from './codec-packr.js';
import { blockLine, blockRecord, LINE_INVALID_UTF8, LINE_TRUNCATED, type LineBlock } from '../record.js';
import { EVENT_TIME_BYTES, writeEventTime } from './event-time.js';

const KEY_LOG = Buffer.from([0xa3, 0x6c, 0x6f, 0x67]); // "log"
/** Encoded map keys (they repeat on every record). */
const keyCache = new Map<string, Buffer>();
const KEY_CACHE_MAX = 4096;

/** path_key values that would collide with the metadata keys lines() writes itself. */
const OWN_META_KEYS = new Set(['path', 'src', 'seq', 'truncated', 'invalid_utf8']);

/** Bytes of the str header for a string of `n` bytes. */
function strHeaderSize(n: number): number {
  return n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** Copy all of `from` into `to` at `p`; returns the position after it. */
function put(from: Buffer, to: Buffer, p: number): number {
  to.set(from, p);
  return p + from.length;
}

/** Whether lines() can write a block's entries without path and src (its path_key is not one of them). */
export function compactable(b: LineBlock): boolean {
  return !OWN_META_KEYS.has(b.pathKey);
}

export class EntryWriter {
  private buf: Buffer;
  private pos = 0;
  /** Where the entries start in buf (0, or the room left in a given buffer: over()). */
  private base = 0;

  constructor(
    initial: number,
    private readonly metaKey: string,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(256, initial));
  }

  /**
   * A writer into `buf` from `start` on (the bytes before it are left for the caller: a message's
   * head). It moves to a bigger buffer of its own if the entries outgrow `buf` (see `buffer`).
   */
  static over(buf: Buffer, start: number, metaKey: string): EntryWriter {
    const w = new EntryWriter(0, metaKey);
    w.buf = buf;
    w.base = start;
    w.pos = start;
    return w;
  }

  /** Start over, keeping the buffer (a reused scratch writer). */
  reset(): void {
    this.pos = this.base;
  }

  /** Size of the buffer (what a reused writer holds on to). */
  get capacity(): number {
    return this.buf.length;
  }

  /** The buffer written to (another one than over() was given once the entries outgrew it). */
  get buffer(): Buffer {
    return this.buf;
  }

  /** The bytes written so far. */
  result(): Buffer {
    return this.buf.subarray(this.base, this.pos);
  }

  /** Bytes written so far (an entry boundary between entry() calls). */
  get offset(): number {
    return this.pos - this.base;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const nb = Buffer.allocUnsafe(Math.max(this.pos + n, this.buf.length * 2));
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  private raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  private mapHeader(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x80 | n;
    else if (n < 0x10000) {
      this.buf[this.pos] = 0xde;
      this.buf.writeUInt16BE(n, this.pos + 1);
      this.pos += 3;
    } else {
      this.buf[this.pos] = 0xdf;
      this.buf.writeUInt32BE(n, this.pos + 1);
      this.pos += 5;
    }
  }

  /** A map key: cached, since the same few keys come on every record. */
  key(k: string): void {
    const b = keyCache.get(k);
    if (!b) {
      const start = this.pos;
      this.str(k);
      if (keyCache.size < KEY_CACHE_MAX) keyCache.set(k, Buffer.from(this.buf.subarray(start, this.pos)));
      return;
    }
    this.raw(b);
  }

  str(s: string): void {
    const len = s.length;
    if (len < 32) {
      // Short ASCII strings: a JS loop is cheaper than a call into Buffer.write.
      this.ensure(len + 1);
      const b = this.buf;
      const p = this.pos;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p + 1 + i] = c;
      }
      if (i === len) {
        b[p] = 0xa0 | len;
        this.pos = p + 1 + len;
        return;
      }
    }
    const max = s.length * 3;
    this.ensure(max + 5);
    // Guess the header from the length in characters (exact for ASCII), fix it up if needed.
    const guess = strHeaderSize(s.length);
    const n = this.buf.write(s, this.pos + guess, 'utf8');
    const h = strHeaderSize(n);
    if (h !== guess) this.buf.copyWithin(this.pos + h, this.pos + guess, this.pos + guess + n);
    this.pos = this.strHeader(this.pos, n) + n;
  }

  /** The str header for `n` bytes at `p` (room already ensured); returns the position after it. */
  private strHeader(p: number, n: number): number {
    const b = this.buf;
    if (n < 32) {
      b[p] = 0xa0 | n;
      return p + 1;
    }
    if (n < 0x100) {
      b[p] = 0xd9;
      b[p + 1] = n;
      return p + 2;
    }
    if (n < 0x10000) {
      b[p] = 0xda;
      b.writeUInt16BE(n, p + 1);
      return p + 3;
    }
    b[p] = 0xdb;
    b.writeUInt32BE(n, p + 1);
    return p + 5;
  }

  private num(v: number): void {
    this.ensure(9);
    const b = this.buf;
    const p = this.pos;
    if (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) {
      if (v >= 0) {
        if (v < 0x80) {
          b[p] = v;
          this.pos = p + 1;
        } else if (v < 0x100) {
          b[p] = 0xcc;
          b[p + 1] = v;
          this.pos = p + 2;
        } else if (v < 0x10000) {
          b[p] = 0xcd;
          b.writeUInt16BE(v, p + 1);
          this.pos = p + 3;
        } else if (v < 0x100000000) {
          b[p] = 0xce;
          b.writeUInt32BE(v, p + 1);
          this.pos = p + 5;
        } else {
          b[p] = 0xcf;
          b.writeUInt32BE(Math.floor(v / 0x100000000), p + 1);
          b.writeUInt32BE(v >>> 0, p + 5);
          this.pos = p + 9;
        }
      } else if (v >= -32) {
        b[p] = v & 0xff;
        this.pos = p + 1;
      } else if (v >= -0x80) {
        b[p] = 0xd0;
        b.writeInt8(v, p + 1);
        this.pos = p + 2;
      } else if (v >= -0x8000) {
        b[p] = 0xd1;
        b.writeInt16BE(v, p + 1);
        this.pos = p + 3;
      } else if (v >= -0x80000000) {
        b[p] = 0xd2;
        b.writeInt32BE(v, p + 1);
        this.pos = p + 5;
      } else {
        b[p] = 0xd3;
        b.writeBigInt64BE(BigInt(v), p + 1);
        this.pos = p + 9;
      }
      return;
    }
    b[p] = 0xcb;
    b.writeDoubleBE(v, p + 1);
    this.pos = p + 9;
  }

  value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        return this.str(v);
      case 'number':
        return this.num(v);
      case 'boolean':
        return this.byte(v ? 0xc3 : 0xc2);
      case 'undefined':
        return this.byte(0xc0);
      default:
        if (v === null) return this.byte(0xc0);
        // Bytes are bin, whatever their class (msgpackr would write a SealedBytes as its toJSON).
        if (v instanceof Uint8Array) return this.bin(v);
        this.raw(packr.pack(v));
    }
  }

  /** A bin value. */
  private bin(v: Uint8Array): void {
    const n = v.length;
    this.ensure(n + 5);
    const b = this.buf;
    if (n < 0x100) {
      b[this.pos++] = 0xc4;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos] = 0xc5;
      b.writeUInt16BE(n, this.pos + 1);
      this.pos += 3;
    } else {
      b[this.pos] = 0xc6;
      b.writeUInt32BE(n, this.pos + 1);
      this.pos += 5;
    }
    b.set(v, this.pos);
    this.pos += n;
  }

  /** A map of the own enumerable keys of `o` whose value is not undefined, plus `extra` entries. */
  private map(o: Record<string, unknown>, skip: string | undefined, extra: number): void {
    let n = extra;
    for (const k in o) if (o[k] !== undefined && k !== skip) n++;
    this.mapHeader(n);
    for (const k in o) {
      const v = o[k];
      if (v === undefined || k === skip) continue;
      this.key(k);
      this.value(v);
    }
  }

  /**
   * The entries of lines `from` .. `to - 1` of a LineBlock, byte for byte what entry() writes for
   * the records blockRecord() would build: `[time, {log: line, _qlog: {path, src, seq,
   * [pathKey], truncated?, invalid_utf8?}}]`. Line bytes are copied, never decoded (lines with
   * invalid UTF-8 go through their decoded text, as their records would). Calls `after(i)` with
   * the offset after each entry when given. `compact` (only for a block that is `compactable`):
   * `_qlog` without path and src, which the reader puts back (sealed units, core/seal).
   */
  lines(b: LineBlock, from: number, to: number, after?: (offset: number) => void, compact = false): void {
    if (OWN_META_KEYS.has(b.pathKey)) {
      if (compact) throw new Error(`EntryWriter.lines: a block with path_key "${b.pathKey}" cannot be compact`);
      for (let i = from; i < to; i++) {
        const r = blockRecord(b, i, '');
        this.entry(r.time, r.body, r.meta);
        after?.(this.pos - this.base);
      }
      return;
    }
    // What every line of the block shares, written once: the entry up to the line's str header
    // (`[time, {log:`), and for a line without flags the bytes between the line and its seq
    // (`_qlog: {path, src, seq:`). Per line: those two copies, the line, the seq.
    const baseKeys = (compact ? 1 : 3) + (b.pathKey ? 1 : 0);
    this.ensure(2 + EVENT_TIME_BYTES + KEY_LOG.length);
    const mark = this.pos;
    this.byte(0x92);
    this.pos = writeEventTime(this.buf, this.pos, b.time);
    this.byte(0x82);
    this.raw(KEY_LOG);
    const head = Buffer.from(this.buf.subarray(mark, this.pos));
    this.pos = mark;
    this.key(this.metaKey);
    const metaKey = Buffer.from(this.buf.subarray(mark, this.pos));
    this.pos = mark;
    if (!compact) {
      this.key('path');
      this.str(b.path);
      this.key('src');
      this.str(b.src);
    }
    this.key('seq');
    const shared = Buffer.from(this.buf.subarray(mark, this.pos));
    this.pos = mark;
    this.raw(metaKey);
    this.mapHeader(baseKeys);
    this.raw(shared);
    const plain = Buffer.from(this.buf.subarray(mark, this.pos));
    let tail: Buffer | undefined;
    if (b.pathKey) {
      this.pos = mark;
      this.key(b.pathKey);
      this.str(b.path);
      tail = Buffer.from(this.buf.subarray(mark, this.pos));
    }
    this.pos = mark;
    const fixed = head.length + metaKey.length + 5 + shared.length + 9 + (tail?.length ?? 0) + 32;
    const src = b.buf;
    if (tail === undefined && b.flags === undefined && to > from && this.nativeLines(b, from, to, head, plain, after)) return;
    for (let i = from; i < to; i++) {
      const f = b.flags === undefined ? 0 : b.flags[i]!;
      const start = b.starts[i]!;
      const len = b.ends[i]! - start;
      this.ensure(len + fixed);
      const buf = this.buf;
      let p = put(head, buf, this.pos);
      if (f & LINE_INVALID_UTF8) {
        this.pos = p;
        this.str(blockLine(b, i));
        p = this.pos;
      } else {
        p = this.strHeader(p, len);
        // TypedArray.set of a view skips Buffer.copy's argument checks (1 M calls per 1 M lines).
        buf.set(new Uint8Array(src.buffer, src.byteOffset + start, len), p);
        p += len;
      }
      // this.buf, not buf: str() may have grown it.
      if (f === 0) this.pos = put(plain, this.buf, p);
      else {
        this.pos = put(metaKey, this.buf, p);
        this.mapHeader(baseKeys + (f & LINE_TRUNCATED ? 1 : 0) + (f & LINE_INVALID_UTF8 ? 1 : 0));
        this.raw(shared);
      }
      this.num(b.base + b.seqs[i]!);
      if (tail) this.raw(tail);
      if (f & LINE_TRUNCATED) {
        this.key('truncated');
        this.byte(0xc3);
      }
      if (f & LINE_INVALID_UTF8) {
        this.key('invalid_utf8');
        this.byte(0xc3);
      }
      after?.(this.pos - this.base);
    }
  }

  /** Positions after each entry, from the native encoder (grown to the largest block). */
  private bounds = new Uint32Array(0);

  /**
   * lines() for lines without flags in the addon (native/lines.cc encodeLines: the same bytes as
   * the loop in lines() writes for them); false without the addon or for a seq past 2^53.
   */
  private nativeLines(b: LineBlock, from: number, to: number, head: Buffer, plain: Buffer, after?: (offset: number) => void): boolean {
    const n = nativeLines();
    if (n === undefined) return false;
    let bytes = 0;
    for (let i = from; i < to; i++) bytes += b.ends[i]! - b.starts[i]!;
    // What the addon may write per line (its own check): head, a str header (5), plain, a uint (9).
    // Not `fixed`, which has room for flags and a path key: a frame buffer given to over() is sized
    // for the message, and a loose bound here would move most chunks out of it.
    this.ensure(bytes + (to - from) * (head.length + 5 + plain.length + 9));
    if (after && this.bounds.length < to - from) this.bounds = new Uint32Array(Math.max(to - from, this.bounds.length * 2, 1024));
    const pos = n.encodeLines(this.buf, this.pos, head, plain, b.buf, b.starts, b.ends, b.seqs, b.base, from, to, after ? this.bounds : undefined);
    if (pos < 0) return false;
    this.pos = pos;
    if (after) for (let k = 0; k < to - from; k++) after(this.bounds[k]! - this.base);
    return true;
  }

  /** One `[EventTime, map]` entry. */
  entry(timeNs: bigint, body: string | Record<string, unknown>, meta: Record<string, unknown>): void {
    this.ensure(1 + EVENT_TIME_BYTES + 1);
    this.buf[this.pos++] = 0x92;
    this.pos = writeEventTime(this.buf, this.pos, timeNs);
    if (typeof body === 'string') {
      this.buf[this.pos++] = 0x82;
      this.raw(KEY_LOG);
      this.str(body);
    } else this.map(body, this.metaKey, 1);
    this.key(this.metaKey);
    this.map(meta, undefined, 0);
  }
}
