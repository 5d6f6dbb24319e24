/**
 * The compact entries of a version 2 unit: records whose `_qlog` map leaves out the fields that
 * every record of the unit shares (a tailed file's path and src, ~30% of a line's entry), named
 * once in the unit header's `meta`. The opener puts them back, first in each `_qlog` map, so the
 * entries it returns are byte for byte what the records were (what a version 1 unit holds).
 * See docs/sealing.md (Unit format).
 */
import { EntryWriter } from '../forward/entry-encoder.js';
import { skipValue } from '../forward/entry-decoder.js';
import { META_KEY } from '../forward/codec.js';
import { HEADER_OK, readHeader, type Header } from '../forward/msgpack-header.js';

/** `_qlog` as a msgpack str (a fixstr: 5 bytes). */
const META_KEY_BYTES = Buffer.from([0xa0 | META_KEY.length, ...Buffer.from(META_KEY, 'latin1')]);
const h: Header = { head: 0, payload: 0, children: 0 };

/** Whether `v` is a value `meta` may hold: a string, a finite number or a boolean. */
export function isMetaValue(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

const isMap = (b: number) => (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;

function mapHeader(out: Buffer, o: number, n: number): number {
  if (n < 16) {
    out[o] = 0x80 | n;
    return o + 1;
  }
  if (n < 0x10000) {
    out[o] = 0xde;
    return out.writeUInt16BE(n, o + 1);
  }
  out[o] = 0xdf;
  return out.writeUInt32BE(n, o + 1);
}

/**
 * `entries` (PackedForward entries `[time, {..., _qlog: {...}}]`) with the `meta` fields put
 * first into every record's `_qlog` map. `count`: the records expected (sizes the result).
 * Throws an Error saying what is wrong when an entry is not of that form.
 */
export function expandEntries(entries: Buffer, meta: Record<string, unknown>, count: number): Buffer {
  const keys = Object.keys(meta);
  if (keys.length === 0 || entries.length === 0) return entries;
  const w = new EntryWriter(256, META_KEY);
  for (const k of keys) {
    w.key(k);
    w.value(meta[k]);
  }
  const add = w.result();
  const per = add.length + 4;
  let out = Buffer.allocUnsafe(entries.length + count * per);
  let o = 0;
  const end = entries.length;
  const skip = (p: number, what: string): number => {
    try {
      return skipValue(entries, p, end);
    } catch {
      throw new Error(`${what} of entry ${n} is not whole msgpack`);
    }
  };
  let n = 0;
  let pos = 0;
  while (pos < end) {
    if (o + (end - pos) + per > out.length) {
      const grown = Buffer.allocUnsafe(o + (end - pos) + per * (count + 1));
      out.copy(grown, 0, 0, o);
      out = grown;
    }
    if (entries[pos] !== 0x92) throw new Error(`entry ${n} is not an array [time, record]`);
    let p = skip(pos + 1, 'the time');
    if (p >= end || !isMap(entries[p]!) || readHeader(entries, p, end, h) !== HEADER_OK) throw new Error(`the record of entry ${n} is not a map`);
    let pairs = h.children / 2;
    p += h.head;
    let found = false;
    while (pairs-- > 0) {
      const isMeta = entries.compare(META_KEY_BYTES, 0, META_KEY_BYTES.length, p, Math.min(end, p + META_KEY_BYTES.length)) === 0;
      p = skip(p, 'a key');
      if (isMeta && !found) {
        if (p >= end || !isMap(entries[p]!) || readHeader(entries, p, end, h) !== HEADER_OK) throw new Error(`the ${META_KEY} of entry ${n} is not a map`);
        o += entries.copy(out, o, pos, p);
        o = mapHeader(out, o, h.children / 2 + keys.length);
        o += add.copy(out, o);
        pos = p + h.head;
        found = true;
      }
      p = skip(p, 'a value');
    }
    if (!found) throw new Error(`entry ${n} has no ${META_KEY} map`);
    o += entries.copy(out, o, pos, p);
    pos = p;
    n++;
  }
  return out.subarray(0, o);
}
