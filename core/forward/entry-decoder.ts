/**
 * A hand-rolled msgpack reader for PackedForward entries, the counterpart of entry-encoder.ts.
 *
 * The common entry, `[EventTime, {key: scalar, ..., _qlog: {key: scalar, ...}}]`, is read
 * straight from the buffer into a record: map keys and repeated metadata values (path, src,
 * host: the same on every record of a file) come from small caches instead of being decoded
 * again, and the EventTime's seconds are converted to a bigint once per second, not per record.
 * Any other entry (nested values, binary, Fluent Bit's `[[time, meta], map]`, odd keys) is
 * measured with `skipValue` and handed to msgpackr, so every valid entry decodes exactly as
 * msgpackr would decode it. Several times faster than unpackMultiple + per-record objects.
 */
import { nativeLines, SCAN_FULL } from '../native-lines.js';
import { unpackr } from './codec-packr.js';
import { HEADER_INCOMPLETE, HEADER_INVALID, readHeader, type Header } from './msgpack-header.js';

/**
 * What scanLines found: the entries of a message that are all plain lines. Arrays are the
 * reader's, reused by its next scan (valid up to `count`): copy what you keep.
 */
export interface LineScan {
  count: number;
  /** Line i (the `log` string's bytes) is entries[starts[i], ends[i]). */
  starts: Uint32Array;
  ends: Uint32Array;
  /** `_qlog.src` of each line as an index into `srcs` (-1: none), `_qlog.seq` (NaN: none). */
  srcOf: Int32Array;
  seqs: Float64Array;
  /** The distinct srcs, in order of first appearance. */
  srcs: string[];
  /** Line bytes + 1 per line (sealed units: 0). */
  bytes: number;
  /**
   * Every entry is a sealed unit `[time, {sealed: <bin>, _qlog: {...}}]` instead (never a mix):
   * starts/ends are then the bin's bytes, and firsts/lasts the unit's seq range as its
   * `qlog-sealed/1` line shows it (core/sealed-record.ts sealedLine). seqs stay meta.seq (NaN for a
   * closing unit: it has none).
   */
  sealed: boolean;
  firsts: Float64Array;
  lasts: Float64Array;
}

/** A slow-path entry handler: the entry as msgpackr decoded it. */
export type EntryFallback = (entry: unknown) => void;

/** What the fast path produced for one entry. */
export interface FastEntry {
  time: bigint;
  /** The record's keys other than `_qlog`, in wire order (values are scalars). */
  keys: string[];
  values: unknown[];
  /** Number of key/value pairs read into keys/values. */
  n: number;
  /** The `_qlog` map (already checked: src/path/host strings, seq finite), or undefined. */
  meta: Record<string, unknown> | undefined;
  /** `_qlog` was present but not a map (it then counts as `{}`). */
  metaPresent: boolean;
}

const NS_PER_S = 1_000_000_000n;
/** Key of the record map that carries qlog's metadata (codec.ts: META_KEY). */
const META_KEY = '_qlog';
/** Key of a sealed unit's bytes (sealed-record.ts: SEALED_FIELD). */
const SEALED_KEY = 'sealed';
const KEY_CACHE_MAX = 1024;
/** Metadata values longer than this are not cached. */
const VALUE_CACHE_MAX_BYTES = 512;
const META_SLOTS = 16;
/** Key positions remembered: 16 in the record map, 16 in `_qlog`. */
const KEY_SLOTS = 32;

/**
 * Control flow only: the entries ran out mid-value. Caught inside this module (the caller then
 * takes the slow path or reports the end as a plain Error that codec.ts wraps in
 * QLOG_ERR_FORWARD_PROTOCOL); never reaches a user, so it is not a QlogError.
 */
class Truncated extends Error {}
const header: Header = { head: 0, payload: 0, children: 0 };
/** Not a form the fast path reads: let msgpackr decode the entry. */
const SLOW = Symbol('slow');

type BufferWithSlices = Buffer & { utf8Slice(start: number, end: number): string };

interface CachedString {
  bytes: Buffer;
  str: string;
}

function sameBytes(a: Buffer, b: Buffer, start: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

/**
 * Skip one msgpack value starting at `pos`; returns the position after it. Throws Truncated if
 * the value runs past `end`, an Error on a byte that is not msgpack.
 */
export function skipValue(buf: Buffer, pos: number, end: number): number {
  let pending = 1;
  while (pending > 0) {
    if (pos >= end) throw new Truncated();
    const r = readHeader(buf, pos, end, header);
    if (r === HEADER_INCOMPLETE) throw new Truncated();
    if (r === HEADER_INVALID) throw new Error(`invalid msgpack byte 0x${buf[pos]!.toString(16)} at offset ${pos}`);
    pending += header.children - 1;
    pos += header.head + header.payload;
  }
  if (pos > end) throw new Truncated();
  return pos;
}

export class EntryReader {
  private buf!: BufferWithSlices;
  private pos = 0;
  private end = 0;
  private readonly keyCache = new Map<number, CachedString>();
  /** The key last seen at each position (record map 0-15, `_qlog` 16-31). */
  private readonly keySlots: (CachedString | undefined)[] = new Array(KEY_SLOTS);
  /** Last value seen in each position of the `_qlog` map. */
  private readonly metaCache: (CachedString | undefined)[] = new Array(META_SLOTS);
  private lastSec = -1;
  private lastSecNs = 0n;
  private lastNsec = -1;
  private lastTime = 0n;
  private readonly e: FastEntry = { time: 0n, keys: [], values: [], n: 0, meta: undefined, metaPresent: false };

  private scan: LineScan = {
    count: 0,
    starts: new Uint32Array(256),
    ends: new Uint32Array(256),
    srcOf: new Int32Array(256),
    seqs: new Float64Array(256),
    srcs: [],
    bytes: 0,
    sealed: false,
    firsts: new Float64Array(256),
    lasts: new Float64Array(256),
  };
  /** The native scan's distinct srcs (start, length; at most 64) and its totals (bytes, srcs). */
  private readonly srcRanges = new Uint32Array(2 * 64);
  private readonly scanInfo = new Float64Array(2);

  /**
   * `useNative`: scan with the addon when it is loaded (native/lines.cc; it reads the common
   * form only and leaves anything else to the JavaScript). false: JavaScript only (tests compare).
   */
  constructor(private readonly useNative = true) {}

  /**
   * When every entry of `buf` is a plain line, `[time, {log: <str>, _qlog: {scalars}}]` (what
   * vsock-forward sends), where each line is and its `_qlog` src/seq (the dedupe key), without
   * decoding the lines; else (any other entry, or bytes that are not whole entries) undefined,
   * and `read` must decode the entries. Such entries are exactly those `read` makes records
   * with a string body (the line) from, with the same meta.src/meta.seq.
   *
   * Also when every entry is a sealed unit, `[time, {sealed: <bin>, _qlog: {scalars}}]` (what
   * vsock-forward sends with `seal:`), with src and seq, seq_first, seq_last numbers when present:
   * those `read` makes a sealed record of (sealed-record.ts) whose line is fixed by src and the
   * range. Anything else about a unit (a seq that is not a finite number, ...) takes `read`.
   */
  scanLines(buf: Buffer): LineScan | undefined {
    return (this.useNative ? this.nativeScan(buf) : undefined) ?? this.scanLinesJs(buf);
  }

  /** The addon's scan of plain lines, or undefined (no addon, or a form it leaves to scanLinesJs). */
  private nativeScan(buf: Buffer): LineScan | undefined {
    const n = nativeLines();
    if (n === undefined) return undefined;
    const s = this.scan;
    for (;;) {
      const r = n.scanLogEntries(buf, s.starts, s.ends, s.srcOf, s.seqs, this.srcRanges, this.scanInfo);
      if (r === SCAN_FULL) {
        this.growScan();
        continue;
      }
      if (r < 0) return undefined;
      s.count = r;
      s.bytes = this.scanInfo[0]!;
      s.sealed = false;
      s.srcs.length = 0;
      const ranges = this.srcRanges;
      const b = buf as BufferWithSlices;
      for (let k = 0; k < this.scanInfo[1]!; k++) s.srcs.push(b.utf8Slice(ranges[2 * k]!, ranges[2 * k]! + ranges[2 * k + 1]!));
      return s;
    }
  }

  /** scanLines in JavaScript: every form it reads, with or without the addon. */
  scanLinesJs(buf: Buffer): LineScan | undefined {
    this.buf = buf as BufferWithSlices;
    this.end = buf.length;
    this.pos = 0;
    const s = this.scan;
    s.count = 0;
    s.bytes = 0;
    s.srcs.length = 0;
    let lastSrc: string | undefined;
    let lastIdx = -1;
    try {
      while (this.pos < this.end) {
        if (buf[this.pos] !== 0x92) return undefined;
        this.pos++;
        if (this.time() === undefined || this.mapLength() !== 2) return undefined;
        let start = -1;
        let end = -1;
        let unit = false;
        let metaSeen = false;
        let src: string | undefined;
        let seq = Number.NaN;
        let first: number | undefined;
        let last: number | undefined;
        for (let k = 0; k < 2; k++) {
          const key = this.key(k);
          if (key === 'log' || key === SEALED_KEY) {
            if (start >= 0) return undefined;
            unit = key === SEALED_KEY;
            start = unit ? this.binStart() : this.strStart();
            if (start < 0) return undefined;
            end = this.pos;
          } else if (key === META_KEY) {
            const mn = this.mapLength();
            if (mn < 0) return undefined;
            metaSeen = true;
            // As meta(): the last occurrence of a key counts; a wrong type removes it.
            for (let i = 0; i < mn; i++) {
              const mk = this.key(i < 16 ? 16 + i : KEY_SLOTS);
              if (mk === undefined) return undefined;
              if (mk !== 'src' && mk !== 'seq' && mk !== 'seq_first' && mk !== 'seq_last') {
                // Not needed to write the line (the records decode it): only checked to be a scalar.
                if (!this.skipScalar()) return undefined;
                continue;
              }
              const v = this.scalar(i < META_SLOTS ? i + 1 : 0);
              if (v === SLOW) return undefined;
              if (mk === 'src') src = typeof v === 'string' ? v : undefined;
              else if (mk === 'seq') seq = typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
              // A unit's range is in its line: anything but a finite number there takes `read`.
              else if (typeof v !== 'number' || !Number.isFinite(v)) first = last = Number.NaN;
              else if (mk === 'seq_first') first = v;
              else last = v;
            }
          } else return undefined;
        }
        if (start < 0 || !metaSeen) return undefined;
        const n = s.count;
        if (n === 0) s.sealed = unit;
        else if (s.sealed !== unit) return undefined;
        if (n === s.starts.length) this.growScan();
        if (unit) {
          // As sealedLine: the last seq is meta.seq, else seq_last, else 0; the first seq_first, else the last.
          if (Number.isNaN(first) || Number.isNaN(last)) return undefined;
          const l = Number.isNaN(seq) ? (last ?? 0) : seq;
          s.lasts[n] = l;
          s.firsts[n] = first ?? l;
        } else s.bytes += end - start + 1;
        s.starts[n] = start;
        s.ends[n] = end;
        s.seqs[n] = seq;
        if (src !== lastSrc) {
          lastSrc = src;
          lastIdx = src === undefined ? -1 : s.srcs.indexOf(src);
          if (src !== undefined && lastIdx < 0) lastIdx = s.srcs.push(src) - 1;
        }
        s.srcOf[n] = lastIdx;
        s.count = n + 1;
      }
    } catch (err) {
      if (err instanceof Truncated) return undefined;
      throw err;
    }
    return s;
  }

  private growScan(): void {
    const s = this.scan;
    const n = s.starts.length * 2;
    const grow = <T extends Uint32Array | Int32Array | Float64Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    s.starts = grow(s.starts, new Uint32Array(n));
    s.ends = grow(s.ends, new Uint32Array(n));
    s.srcOf = grow(s.srcOf, new Int32Array(n));
    s.seqs = grow(s.seqs, new Float64Array(n));
    s.firsts = grow(s.firsts, new Float64Array(n));
    s.lasts = grow(s.lasts, new Float64Array(n));
  }

  /** Skip a value scalar() reads (false, position unchanged: one it does not read). */
  private skipScalar(): boolean {
    const buf = this.buf;
    this.need(1);
    const p = this.pos;
    const b = buf[p]!;
    let head = 1;
    let len = 0;
    if (b >= 0xa0 && b <= 0xbf) len = b & 0x1f;
    else if (!(b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3)) {
      switch (b) {
        case 0xcc:
        case 0xd0:
          len = 1;
          break;
        case 0xcd:
        case 0xd1:
          len = 2;
          break;
        case 0xce:
        case 0xd2:
          len = 4;
          break;
        case 0xcf:
        case 0xd3:
        case 0xcb:
          len = 8;
          break;
        case 0xd9:
          this.need(2);
          head = 2;
          len = buf[p + 1]!;
          break;
        case 0xda:
          this.need(3);
          head = 3;
          len = buf.readUInt16BE(p + 1);
          break;
        case 0xdb:
          this.need(5);
          head = 5;
          len = buf.readUInt32BE(p + 1);
          break;
        default:
          return false;
      }
    }
    if (p + head + len > this.end) throw new Truncated();
    this.pos = p + head + len;
    return true;
  }

  /** A bin value: skips it and returns where its bytes start, or -1 (not a bin; position unchanged). */
  private binStart(): number {
    return this.sizedStart(0xc4);
  }

  /** A str value: skips it and returns where its bytes start, or -1 (not a str; position unchanged). */
  private strStart(): number {
    this.need(1);
    const p = this.pos;
    const b = this.buf[p]!;
    if (b < 0xa0 || b > 0xbf) return this.sizedStart(0xd9);
    const start = p + 1;
    if (start + (b & 0x1f) > this.end) throw new Truncated();
    this.pos = start + (b & 0x1f);
    return start;
  }

  /**
   * A str or bin with an 8, 16 or 32-bit length (types `type8`, `type8 + 1`, `type8 + 2`): skips
   * it and returns where its bytes start, or -1 (another type; position unchanged).
   */
  private sizedStart(type8: number): number {
    const buf = this.buf;
    this.need(1);
    const p = this.pos;
    const t = buf[p]! - type8;
    if (t < 0 || t > 2) return -1;
    const head = t === 0 ? 2 : t === 1 ? 3 : 5;
    this.need(head);
    const len = t === 0 ? buf[p + 1]! : t === 1 ? buf.readUInt16BE(p + 1) : buf.readUInt32BE(p + 1);
    const start = p + head;
    if (start + len > this.end) throw new Truncated();
    this.pos = start + len;
    return start;
  }

  /**
   * Read every entry of `buf`. `onFast` gets the reusable FastEntry (copy what you keep);
   * `onSlow` gets entries the fast path does not read, decoded by msgpackr. Throws an Error
   * when the bytes are not a sequence of whole msgpack values.
   */
  read(buf: Buffer, onFast: (e: FastEntry) => void, onSlow: EntryFallback): void {
    this.buf = buf as BufferWithSlices;
    this.end = buf.length;
    let pos = 0;
    while (pos < this.end) {
      this.pos = pos;
      let ok: boolean;
      try {
        ok = this.entry();
      } catch (err) {
        if (!(err instanceof Truncated)) throw err;
        ok = false;
      }
      if (ok) {
        pos = this.pos;
        onFast(this.e);
        continue;
      }
      let next: number;
      try {
        next = skipValue(buf, pos, this.end);
      } catch (err) {
        if (err instanceof Truncated) throw new Error(`the entries end in the middle of a value (${this.end - pos} bytes left at offset ${pos})`);
        throw err;
      }
      onSlow(unpackr.unpack(buf.subarray(pos, next)));
      pos = next;
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new Truncated();
  }

  /** One `[time, map]` entry on the fast path; false when msgpackr must read it. */
  private entry(): boolean {
    const buf = this.buf;
    this.need(1);
    if (buf[this.pos] !== 0x92) return false;
    this.pos++;
    const t = this.time();
    if (t === undefined) return false;
    const n = this.mapLength();
    if (n < 0) return false;
    const e = this.e;
    e.time = t;
    e.n = 0;
    e.meta = undefined;
    e.metaPresent = false;
    for (let i = 0; i < n; i++) {
      const k = this.key(i < 16 ? i : KEY_SLOTS);
      if (k === undefined) return false;
      if (k === META_KEY) {
        e.metaPresent = true;
        const mn = this.mapLength();
        if (mn >= 0) {
          const m = this.meta(mn);
          if (m === undefined) return false;
          e.meta = m;
        } else {
          if (this.scalar(false) === SLOW) return false;
          e.meta = undefined;
        }
        continue;
      }
      const v = this.scalar(false);
      if (v === SLOW) return false;
      e.keys[e.n] = k;
      e.values[e.n] = v;
      e.n++;
    }
    return true;
  }

  private meta(n: number): Record<string, unknown> | undefined {
    const m: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.key(i < 16 ? 16 + i : KEY_SLOTS);
      if (k === undefined) return undefined;
      const v = this.scalar(i < META_SLOTS ? i + 1 : 0);
      if (v === SLOW) return undefined;
      // The well-known keys must have their types (see RecordMeta); anything else is dropped.
      if (k === 'seq' ? typeof v === 'number' && Number.isFinite(v) : k === 'src' || k === 'path' || k === 'host' ? typeof v === 'string' : true) m[k] = v;
      else delete m[k];
    }
    return m;
  }

  /** The entry's time as ns, or undefined (not a time the fast path reads). */
  private time(): bigint | undefined {
    const buf = this.buf;
    this.need(1);
    const b = buf[this.pos]!;
    if (b === 0xd7) {
      this.need(10);
      if (buf[this.pos + 1] !== 0) return undefined;
      const sec = buf.readUInt32BE(this.pos + 2);
      const nsec = buf.readUInt32BE(this.pos + 6);
      if (nsec >= 1_000_000_000) return undefined;
      this.pos += 10;
      // Records of one read share their time (tail): one bigint for all of them.
      if (sec === this.lastSec && nsec === this.lastNsec) return this.lastTime;
      if (sec !== this.lastSec) {
        this.lastSec = sec;
        this.lastSecNs = BigInt(sec) * NS_PER_S;
      }
      this.lastNsec = nsec;
      return (this.lastTime = this.lastSecNs + BigInt(nsec));
    }
    // Integer seconds (older Fluent clients).
    if (b <= 0x7f) {
      this.pos++;
      return BigInt(b) * NS_PER_S;
    }
    if (b === 0xce) {
      this.need(5);
      const s = buf.readUInt32BE(this.pos + 1);
      this.pos += 5;
      return BigInt(s) * NS_PER_S;
    }
    return undefined;
  }

  /** A map header's entry count, or -1 (not a map; the position is unchanged). */
  private mapLength(): number {
    const buf = this.buf;
    this.need(1);
    const b = buf[this.pos]!;
    if (b >= 0x80 && b <= 0x8f) {
      this.pos++;
      return b & 0x0f;
    }
    if (b === 0xde) {
      this.need(3);
      const n = buf.readUInt16BE(this.pos + 1);
      this.pos += 3;
      return n;
    }
    if (b === 0xdf) {
      this.need(5);
      const n = buf.readUInt32BE(this.pos + 1);
      this.pos += 5;
      return n;
    }
    return -1;
  }

  /**
   * A str key (cached), or undefined for keys msgpackr must handle (non-str, __proto__).
   * `slot`: the key's position (keys come in the same order on every record), checked first.
   */
  private key(slot: number): string | undefined {
    const buf = this.buf;
    this.need(1);
    const b = buf[this.pos]!;
    let len: number;
    let start: number;
    if (b >= 0xa0 && b <= 0xbf) {
      len = b & 0x1f;
      start = this.pos + 1;
    } else if (b === 0xd9) {
      this.need(2);
      len = buf[this.pos + 1]!;
      start = this.pos + 2;
    } else return undefined;
    if (start + len > this.end) throw new Truncated();
    const last = slot < KEY_SLOTS ? this.keySlots[slot] : undefined;
    if (last !== undefined && last.bytes.length === len && sameBytes(last.bytes, buf, start, len)) {
      this.pos = start + len;
      return last.str;
    }
    let h = len;
    for (let i = 0; i < len; i++) h = (Math.imul(h, 31) + buf[start + i]!) | 0;
    let c = this.keyCache.get(h);
    if (c === undefined || c.bytes.length !== len || !sameBytes(c.bytes, buf, start, len)) {
      const str = buf.utf8Slice(start, start + len);
      if (str === '__proto__') return undefined;
      c = { bytes: Buffer.from(buf.subarray(start, start + len)), str };
      if (this.keyCache.size >= KEY_CACHE_MAX) this.keyCache.clear();
      this.keyCache.set(h, c);
    }
    if (slot < KEY_SLOTS) this.keySlots[slot] = c;
    this.pos = start + len;
    return c.str;
  }

  /**
   * A scalar value (str, int, float64, bool, nil) or SLOW. `slot` > 0: a metadata position
   * whose last string value is cached (repeats on every record of one source).
   */
  private scalar(slot: number | false): unknown {
    const buf = this.buf;
    this.need(1);
    const p = this.pos;
    const b = buf[p]!;
    if (b <= 0x7f) {
      this.pos = p + 1;
      return b;
    }
    if (b >= 0xe0) {
      this.pos = p + 1;
      return b - 0x100;
    }
    let len: number;
    let start: number;
    if (b >= 0xa0 && b <= 0xbf) {
      len = b & 0x1f;
      start = p + 1;
    } else {
      switch (b) {
        case 0xc0:
          this.pos = p + 1;
          return null;
        case 0xc2:
          this.pos = p + 1;
          return false;
        case 0xc3:
          this.pos = p + 1;
          return true;
        case 0xcc:
          this.need(2);
          this.pos = p + 2;
          return buf[p + 1]!;
        case 0xcd:
          this.need(3);
          this.pos = p + 3;
          return buf.readUInt16BE(p + 1);
        case 0xce:
          this.need(5);
          this.pos = p + 5;
          return buf.readUInt32BE(p + 1);
        case 0xcf: {
          // As msgpackr's int64AsType 'auto': a number up to 2^53, a bigint beyond (exact).
          this.need(9);
          this.pos = p + 9;
          const hi = buf.readUInt32BE(p + 1);
          const lo = buf.readUInt32BE(p + 5);
          return hi < 0x200000 || (hi === 0x200000 && lo === 0) ? hi * 4294967296 + lo : buf.readBigUInt64BE(p + 1);
        }
        case 0xd0:
          this.need(2);
          this.pos = p + 2;
          return buf.readInt8(p + 1);
        case 0xd1:
          this.need(3);
          this.pos = p + 3;
          return buf.readInt16BE(p + 1);
        case 0xd2:
          this.need(5);
          this.pos = p + 5;
          return buf.readInt32BE(p + 1);
        case 0xd3: {
          this.need(9);
          this.pos = p + 9;
          const hi = buf.readInt32BE(p + 1);
          const lo = buf.readUInt32BE(p + 5);
          return hi >= -0x200000 && (hi < 0x200000 || (hi === 0x200000 && lo === 0)) ? hi * 4294967296 + lo : buf.readBigInt64BE(p + 1);
        }
        case 0xcb:
          this.need(9);
          this.pos = p + 9;
          return buf.readDoubleBE(p + 1);
        case 0xd9:
          this.need(2);
          len = buf[p + 1]!;
          start = p + 2;
          break;
        case 0xda:
          this.need(3);
          len = buf.readUInt16BE(p + 1);
          start = p + 3;
          break;
        case 0xdb:
          this.need(5);
          len = buf.readUInt32BE(p + 1);
          start = p + 5;
          break;
        default:
          return SLOW;
      }
    }
    const end = start + len;
    if (end > this.end) throw new Truncated();
    this.pos = end;
    if (!slot || len > VALUE_CACHE_MAX_BYTES) return buf.utf8Slice(start, end);
    const c = this.metaCache[slot - 1];
    if (c !== undefined && c.bytes.length === len && sameBytes(c.bytes, buf, start, len)) return c.str;
    const str = buf.utf8Slice(start, end);
    this.metaCache[slot - 1] = { bytes: Buffer.from(buf.subarray(start, end)), str };
    return str;
  }
}
