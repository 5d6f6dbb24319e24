/**
 * The entry reader's fast path must decode every entry exactly as msgpackr + toRecord does.
 * Reference: the same entries sent in Forward mode (an array msgpackr decodes) go through
 * toRecord; PackedForward goes through the EntryReader. Random entries cover every msgpack form
 * the fast path reads and the ones it hands to msgpackr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEntries, decodeEvents, packr, unpackr, ProtocolError } from '../../../core/forward/codec.js';
import { EntryReader, skipValue, type LineScan } from '../../../core/forward/entry-decoder.js';
import { nativeLines, SCAN_FULL, SCAN_UNSURE } from '../../../core/native-lines.js';
import { EntryWriter } from '../../../core/forward/entry-encoder.js';
import type { LineBlock } from '../../../core/record.js';

const limits = { maxDecompressed: 1 << 24 };

// ---- a tiny msgpack writer that can produce any encoding (non-minimal, duplicate keys ...)
type Enc = number[];
const str = (s: string, form?: 'd9' | 'da' | 'db'): Enc => {
  const b = [...Buffer.from(s, 'utf8')];
  if (!form && b.length < 32) return [0xa0 | b.length, ...b];
  if ((!form && b.length < 256) || form === 'd9') return [0xd9, b.length, ...b];
  if ((!form && b.length < 65536) || form === 'da') return [0xda, b.length >> 8, b.length & 0xff, ...b];
  return [0xdb, (b.length >>> 24) & 0xff, (b.length >> 16) & 0xff, (b.length >> 8) & 0xff, b.length & 0xff, ...b];
};
const map = (pairs: [Enc, Enc][]): Enc => [
  pairs.length < 16 ? 0x80 | pairs.length : 0xde,
  ...(pairs.length < 16 ? [] : [pairs.length >> 8, pairs.length & 0xff]),
  ...pairs.flat(2),
];
const eventTime = (sec: number, nsec: number): Enc => {
  const b = Buffer.alloc(10);
  b[0] = 0xd7;
  b[1] = 0;
  b.writeUInt32BE(sec, 2);
  b.writeUInt32BE(nsec, 6);
  return [...b];
};
const packed = (v: unknown): Enc => [...packr.pack(v)];
const raw = (...bytes: number[]): Enc => bytes;

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

function scalar(r: () => number): Enc {
  const pick = Math.floor(r() * 22);
  switch (pick) {
    case 0:
      return str('');
    case 1:
      return str(`line ${'x'.repeat(Math.floor(r() * 40))}`);
    case 2:
      return str('ünïcødé ✓ 🚀');
    case 3:
      return str('y'.repeat(300));
    case 4:
      return str('short', 'd9');
    case 5:
      return str('z'.repeat(70_000));
    case 6:
      return raw(0xc0);
    case 7:
      return raw(r() < 0.5 ? 0xc2 : 0xc3);
    case 8:
      return packed(Math.floor(r() * 128));
    case 9:
      return packed(-Math.floor(r() * 32) - 1);
    case 10:
      return packed(Math.floor(r() * 60000) + 200);
    case 11:
      return packed(4_000_000_000 + Math.floor(r() * 1000));
    case 12:
      return raw(0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 7); // uint64 beyond 2^53
    case 13:
      return raw(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00); // int64 -256
    case 14:
      return packed(-100_000);
    case 15:
      return raw(0xd0, 0x80);
    case 16:
      return raw(0xcb, ...Buffer.from(new Float64Array([Math.PI]).buffer).reverse());
    case 17:
      return raw(0xca, 0x40, 0x49, 0x0f, 0xdb); // float32 pi (msgpackr's path)
    case 18:
      return packed(Buffer.from([1, 2, 3])); // bin
    case 19:
      return packed([1, 'a', { b: null }]);
    case 20:
      return packed({ nested: { deep: [1] } });
    default:
      return raw(0xdc, 0, 1, 0x05); // array16 of one
  }
}

function key(r: () => number): Enc {
  const keys = ['log', 'message', 'level', 'k', 'log', '__proto__', 'a-long-key-name-over-thirty-two-chars!!'];
  const i = Math.floor(r() * (keys.length + 1));
  if (i === keys.length) return packed(7); // a number key
  return str(keys[i]!);
}

function meta(r: () => number): Enc {
  const kind = Math.floor(r() * 6);
  if (kind === 0) return raw(0xc0); // _qlog: nil
  if (kind === 1) return str('not a map');
  const pairs: [Enc, Enc][] = [];
  const ks = ['src', 'seq', 'path', 'host', 'truncated', 'x'];
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    const k = ks[Math.floor(r() * ks.length)]!;
    const good = r() < 0.7;
    const v = k === 'seq' ? (good ? packed(Math.floor(r() * 1e9)) : str('12')) : k === 'truncated' ? raw(0xc3) : good ? str(`/var/log/${k}.log`) : scalar(r);
    pairs.push([str(k), v]);
  }
  return map(pairs);
}

function entry(r: () => number): Enc {
  const t = Math.floor(r() * 8);
  const time =
    t === 0
      ? packed(1_700_000_000 + Math.floor(r() * 10))
      : t === 1
        ? packed(1_700_000_000.25)
        : t === 2
          ? [0x92, ...eventTime(1_700_000_001, 5), 0x80] // Fluent Bit [[time, meta], map]
          : t === 3
            ? raw(0xc7, 8, 0, ...eventTime(1_700_000_002, 9).slice(2)) // EventTime as ext8
            : t === 4
              ? packed(5)
              : t === 5
                ? str('not a time')
                : eventTime(1_700_000_000 + Math.floor(r() * 3), Math.floor(r() * 1e9));
  const shape = Math.floor(r() * 10);
  if (shape === 0) return [0x93, ...time, 0x80, 0x80]; // not [time, map]
  if (shape === 1) return [0x92, ...time, ...str('not a map')];
  const pairs: [Enc, Enc][] = [];
  if (shape < 6) {
    // The common form: {log: line, _qlog: {...}}, sometimes with the keys the other way round.
    pairs.push([str('log'), str(`line ${Math.floor(r() * 1e6)}`)]);
    pairs.push([str('_qlog'), meta(r)]);
    if (r() < 0.2) pairs.reverse();
  } else {
    const n = Math.floor(r() * 18);
    for (let i = 0; i < n; i++) pairs.push([key(r), scalar(r)]);
    if (r() < 0.7) pairs.splice(Math.floor(r() * (pairs.length + 1)), 0, [str('_qlog'), meta(r)]);
  }
  return [0x92, ...time, ...map(pairs)];
}

const norm = (x: unknown) =>
  JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `bin:${Buffer.from(v).toString('hex')}` : v));

test('fast path decodes random entries exactly as msgpackr + toRecord', () => {
  const r = rng(42);
  const reader = new EntryReader();
  for (let round = 0; round < 200; round++) {
    const entries: Enc[] = [];
    const n = 1 + Math.floor(r() * 40);
    for (let i = 0; i < n; i++) entries.push(entry(r));
    const bin = Buffer.from(entries.flat());
    const forward = unpackr.unpackMultiple(bin) as unknown[];
    const ref = decodeEvents(['t', forward, null], limits);
    const got = decodeEvents(['t', bin, null], { ...limits, reader });
    assert.equal(got.invalid, ref.invalid, `round ${round}: invalid count`);
    assert.equal(got.records.length, ref.records.length, `round ${round}: record count`);
    for (let i = 0; i < ref.records.length; i++) assert.equal(norm(got.records[i]), norm(ref.records[i]), `round ${round}, record ${i}`);
  }
});

test('repeated metadata values and keys come from the caches, and stay correct when they change', () => {
  const reader = new EntryReader();
  const mk = (path: string, seq: number) => [
    0x92,
    ...eventTime(1_700_000_000, seq),
    ...map([
      [str('log'), str(`l${seq}`)],
      [
        str('_qlog'),
        map([
          [str('path'), str(path)],
          [str('src'), str('s1')],
          [str('seq'), packed(seq)],
        ]),
      ],
    ]),
  ];
  // Same length, different bytes: a cache keyed on length alone would return the old path.
  const bin = Buffer.from([...mk('/a/one.log', 1), ...mk('/a/one.log', 2), ...mk('/a/two.log', 3), ...mk('/b/one.log', 4)]);
  const ev = decodeEvents(['t', bin], { ...limits, reader });
  assert.deepEqual(
    ev.records.map((x) => [x.body, x.meta.path, x.meta.seq, x.time]),
    [
      ['l1', '/a/one.log', 1, 1_700_000_000_000_000_001n],
      ['l2', '/a/one.log', 2, 1_700_000_000_000_000_002n],
      ['l3', '/a/two.log', 3, 1_700_000_000_000_000_003n],
      ['l4', '/b/one.log', 4, 1_700_000_000_000_000_004n],
    ],
  );
  // Keys in another order on the next record: the per-position cache must not be trusted blindly.
  const swapped = Buffer.from([
    0x92,
    ...eventTime(1, 0),
    ...map([
      [
        str('_qlog'),
        map([
          [str('seq'), packed(9)],
          [str('path'), str('/p')],
        ]),
      ],
      [str('log'), str('x')],
    ]),
  ]);
  const ev2 = decodeEvents(['t', swapped], { ...limits, reader });
  assert.deepEqual(ev2.records[0]!.meta, { seq: 9, path: '/p' });
  assert.equal(ev2.records[0]!.body, 'x');
});

test("a __proto__ key never changes a record's prototype", () => {
  const bin = Buffer.from([
    0x92,
    ...eventTime(1, 0),
    ...map([
      [str('__proto__'), map([[str('polluted'), raw(0xc3)]])],
      [str('log'), str('x')],
    ]),
  ]);
  const ev = decodeEvents(['t', bin], limits);
  const body = ev.records[0]!.body as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(body), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('truncated or invalid entries are a ProtocolError, like msgpackr', () => {
  const good = Buffer.from(entry(rng(7)));
  for (const bad of [
    good.subarray(0, good.length - 1),
    Buffer.concat([good, Buffer.from([0x92, 0xd7])]),
    Buffer.concat([good, Buffer.from([0xc1])]),
    Buffer.concat([good, Buffer.from([0x92, 0x01, 0x81, 0xa1, 0x6b, 0xd6, 0x05, 1, 2, 3, 4])]),
    Buffer.from([0x92, ...eventTime(1, 0), 0x81, ...str('log'), 0xdb, 0xff, 0xff, 0xff, 0xff]),
  ]) {
    assert.throws(() => decodeEvents(['t', bad], limits), ProtocolError);
  }
});

test('skipValue measures every msgpack form', () => {
  const r = rng(3);
  for (let i = 0; i < 500; i++) {
    const a = Buffer.from(entry(r));
    const b = Buffer.from(scalar(r));
    const both = Buffer.concat([a, b]);
    assert.equal(skipValue(both, 0, both.length), a.length);
    assert.equal(skipValue(both, a.length, both.length), both.length);
  }
});

/** A plain line entry `[time, {log, _qlog}]`; the log string's bytes as given (may be invalid UTF-8). */
function plainEntry(r: () => number, i: number): Enc {
  const texts = [`line ${i}`, 'ünïcødé ✓ 🚀', '', 'x'.repeat(300)];
  let line: Enc = str(texts[Math.floor(r() * texts.length)]!);
  if (r() < 0.15) line = [0xa4, 0x61, 0xff, 0xc3, 0x62]; // invalid UTF-8: a, 0xff, a cut 2-byte sequence, b
  // _qlog of scalars, keys repeated at times, values of the wrong type at times.
  const mp: [Enc, Enc][] = [];
  const ks = ['src', 'seq', 'path', 'host', 'truncated', 'src', 'seq'];
  const scalars = (): Enc[] => [raw(0xc0), raw(0xc3), packed(-3), packed(2.5), str('12'), packed(4_000_000_000), raw(0xcf, 0, 0x20, 0, 0, 0, 0, 0, 7)];
  for (let k = Math.floor(r() * 6); k > 0; k--) {
    const name = ks[Math.floor(r() * ks.length)]!;
    const good = r() < 0.7;
    const v = !good
      ? scalars()[Math.floor(r() * 7)]!
      : name === 'seq'
        ? packed(Math.floor(r() * 1e9))
        : name === 'truncated'
          ? raw(0xc3)
          : str(name === 'src' ? `s${Math.floor(r() * 3)}` : `/var/log/${name}.log`);
    mp.push([str(name), v]);
  }
  const pairs: [Enc, Enc][] = [
    [str('log'), line],
    [str('_qlog'), map(mp)],
  ];
  if (r() < 0.2) pairs.reverse();
  return [0x92, ...eventTime(1_700_000_000 + Math.floor(r() * 3), Math.floor(r() * 1e9)), ...map(pairs)];
}

test('scanLines finds plain lines, their bytes, src and seq, as the records decode them', () => {
  const r = rng(11);
  const reader = new EntryReader();
  let scanned = 0;
  for (let round = 0; round < 300; round++) {
    const entries: Enc[] = [];
    const n = 1 + Math.floor(r() * 30);
    for (let i = 0; i < n; i++) entries.push(plainEntry(r, i));
    // Every fourth round, one entry of another form: the whole message must be decoded.
    const other = round % 4 === 3;
    if (other) entries.splice(Math.floor(r() * n), 0, entry(r));
    const bin = Buffer.from(entries.flat());
    const ref = decodeEvents(['t', bin, null], limits);
    const got = decodeEvents(['t', bin, null], { ...limits, reader, lines: true });
    if (got.lines === undefined) {
      assert.equal(norm(got.records), norm(ref.records), `round ${round}: decoded as usual`);
      assert.ok(other, `round ${round}: plain lines only, yet not scanned`);
      continue;
    }
    scanned++;
    assert.equal(got.records.length, 0);
    const s = got.lines.scan;
    assert.equal(s.count, ref.records.length, `round ${round}: count`);
    assert.equal(ref.invalid, 0);
    let bytes = 0;
    for (let i = 0; i < s.count; i++) {
      const rec = ref.records[i]!;
      assert.equal(typeof rec.body, 'string', `round ${round}, entry ${i}: a line`);
      assert.equal(got.lines.entries.toString('utf8', s.starts[i], s.ends[i]), rec.body, `round ${round}, entry ${i}: bytes`);
      assert.equal(s.srcOf[i]! < 0 ? undefined : s.srcs[s.srcOf[i]!], rec.meta.src, `round ${round}, entry ${i}: src`);
      assert.equal(Number.isNaN(s.seqs[i]) ? undefined : s.seqs[i], rec.meta.seq, `round ${round}, entry ${i}: seq`);
      bytes += s.ends[i]! - s.starts[i]! + 1;
    }
    assert.equal(s.bytes, bytes);
    // Records made later from the kept entries are the records decodeEvents makes.
    assert.equal(norm(decodeEntries(Buffer.from(bin), 't')), norm(ref.records), `round ${round}: decodeEntries`);
  }
  assert.ok(scanned >= 200, `${scanned} of 300 messages scanned`);
});

/** An unsigned integer in its shortest msgpack form, as the enclave's encoder writes a seq (uint64 from 2^32). */
function uint(v: number): Enc {
  if (v < 2 ** 32) return packed(v);
  const b = Buffer.alloc(9);
  b[0] = 0xcf;
  b.writeBigUInt64BE(BigInt(v), 1);
  return [...b];
}

/** An entry as vsock-forward sends a tailed line: `[EventTime, {log, _qlog: {path, src, seq}}]`. */
function sentEntry(r: () => number, i: number): Enc {
  const texts = [`line ${i}`, 'ünïcødé ✓ 🚀', '', 'x'.repeat(300), 'z'.repeat(70_000)];
  const meta = map([
    [str('path'), str('/var/log/app.log')],
    [str('src'), str(`ino:${Math.floor(r() * 3)}`)],
    [str('seq'), uint(Math.floor(r() * 2 ** 40))],
  ]);
  return [
    0x92,
    ...eventTime(1_700_000_000, Math.floor(r() * 1e9)),
    ...map([
      [str('log'), str(texts[Math.floor(r() * (i % 97 === 0 ? 5 : 4))]!)],
      [str('_qlog'), meta],
    ]),
  ];
}

/** A scan's content (its arrays are the reader's, reused by its next scan): comparable. */
function scanOf(s: LineScan | undefined) {
  if (s === undefined) return undefined;
  const n = s.count;
  return {
    count: n,
    bytes: s.bytes,
    sealed: s.sealed,
    starts: [...s.starts.subarray(0, n)],
    ends: [...s.ends.subarray(0, n)],
    srcs: [...s.srcOf.subarray(0, n)].map((k) => (k < 0 ? undefined : s.srcs[k])),
    seqs: [...s.seqs.subarray(0, n)].map((x) => (Number.isNaN(x) ? 'NaN' : x)),
  };
}

test('the native scan (addon) finds what the JavaScript scan finds, or leaves the message to it', () => {
  const native = nativeLines();
  assert.ok(native, 'the addon is built with the line scan (npm ci builds native/)');
  const r = rng(23);
  const withAddon = new EntryReader();
  const jsOnly = new EntryReader(false);
  const info = new Float64Array(2);
  const ranges = new Uint32Array(128);
  let claimed = 0;
  let clean = 0;
  for (let round = 0; round < 400; round++) {
    const entries: Enc[] = [];
    // Up to 600 entries: past the arrays' first size, so the native scan asks for more room.
    const n = 1 + Math.floor(r() * (round % 100 === 0 ? 600 : 30));
    // Even rounds: what vsock-forward sends (the native scan must read all of it); odd ones: the
    // random plain entries (odd values, invalid UTF-8 ...) and, at times, an entry of another form.
    const sends = round % 2 === 0 && round % 3 !== 2;
    if (sends) clean++;
    for (let i = 0; i < n; i++) entries.push(sends ? sentEntry(r, i) : plainEntry(r, i));
    if (round % 10 === 5) entries.splice(Math.floor(r() * n), 0, entry(r));
    // Many sources (past the native scan's 64), str16 lines, the log key second.
    if (round % 7 === 6)
      for (let i = 0; i < 70; i++)
        entries.push([
          0x92,
          ...eventTime(1, 0),
          ...map([
            [str('_qlog'), map([[str('src'), str(`src-${i}`)]])],
            [str('log'), str('y'.repeat(i), 'da')],
          ]),
        ]);
    let bin = Buffer.from(entries.flat());
    // Damaged messages: a flipped byte, or cut short.
    if (round % 3 === 2) {
      bin = Buffer.from(bin);
      const at = Math.floor(r() * bin.length);
      if (r() < 0.5) bin[at] = Math.floor(r() * 256);
      else bin = bin.subarray(0, at);
    }
    const want = scanOf(jsOnly.scanLinesJs(bin));
    assert.deepEqual(scanOf(withAddon.scanLines(bin)), want, `round ${round}`);
    const s = { starts: new Uint32Array(1024), ends: new Uint32Array(1024), srcOf: new Int32Array(1024), seqs: new Float64Array(1024) };
    const got = native.scanLogEntries(bin, s.starts, s.ends, s.srcOf, s.seqs, ranges, info);
    if (sends && round % 7 !== 6) assert.ok(got >= 0, `round ${round}: the native scan reads what vsock-forward sends`);
    if (got >= 0) {
      claimed++;
      assert.ok(want !== undefined && want.count === got, `round ${round}: the native scan claims only what the JavaScript finds`);
    }
  }
  assert.ok(claimed >= clean - 20, `the native scan read ${claimed} of 400 messages (${clean} as vsock-forward sends them)`);
});

test('the native scan reads what vsock-forward sends, and leaves other forms to the JavaScript', () => {
  const native = nativeLines()!;
  const arrays = () => [new Uint32Array(8), new Uint32Array(8), new Int32Array(8), new Float64Array(8), new Uint32Array(8), new Float64Array(2)] as const;
  const plain = (m: Enc, time: Enc = eventTime(1_700_000_000, 1)) =>
    Buffer.from([
      0x92,
      ...time,
      ...map([
        [str('log'), str('hello')],
        [str('_qlog'), m],
      ]),
    ]);
  const scan = (b: Buffer) => {
    const [starts, ends, srcOf, seqs, ranges, info] = arrays();
    const n = native.scanLogEntries(b, starts, ends, srcOf, seqs, ranges, info);
    return { n, srcOf: srcOf[0], seq: seqs[0], info: [...info], range: [ranges[0], ranges[1]] };
  };
  const ok = scan(
    plain(
      map([
        [str('src'), str('a/b')],
        [str('seq'), packed(70000)],
        [str('path'), str('/x')],
      ]),
    ),
  );
  assert.deepEqual(ok, { n: 1, srcOf: 0, seq: 70000, info: [6, 1], range: [34, 3] });
  // seq as float64, missing src, Infinity seq (not finite: no seq).
  assert.equal(scan(plain(map([[str('seq'), packed(2.5)]]))).seq, 2.5);
  assert.equal(scan(plain(map([]))).srcOf, -1);
  assert.ok(Number.isNaN(scan(plain(map([[str('seq'), raw(0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0)]]))).seq));
  // Left to the JavaScript: integer time, nsec out of range, __proto__, uint64 seq, invalid UTF-8 src, sealed units.
  for (const b of [
    plain(map([]), packed(5)),
    plain(map([]), eventTime(1, 1_000_000_000)),
    plain(map([[str('__proto__'), raw(0xc0)]])),
    plain(map([[str('seq'), raw(0xcf, 0, 0x20, 0, 0, 0, 0, 0, 7)]])), // uint64 past 2^53: a bigint in JavaScript
    plain(map([[str('src'), raw(0xa2, 0xff, 0xfe)]])),
    Buffer.from([
      0x92,
      ...eventTime(1, 0),
      ...map([
        [str('sealed'), packed(Buffer.from([1]))],
        [str('_qlog'), map([])],
      ]),
    ]),
  ]) {
    assert.equal(scan(b).n, SCAN_UNSURE, b.toString('hex'));
  }
  // Arrays too small: asks for more room.
  assert.equal(scan(Buffer.concat(Array.from({ length: 9 }, () => plain(map([]))))).n, SCAN_FULL);
});

test('the native scan reads what the enclave writes for seqs past 2^32 (uint64), as the JavaScript does', () => {
  const native = nativeLines()!;
  const jsOnly = new EntryReader(false);
  const withAddon = new EntryReader();
  for (const base of [0, 2 ** 32 - 10, 2 ** 40, 2 ** 53 - 1000]) {
    const line = Buffer.from('a line\nanother line\n');
    const block: LineBlock = {
      buf: line,
      count: 2,
      starts: Uint32Array.from([0, 7]),
      ends: Uint32Array.from([6, 19]),
      seqs: Uint32Array.from([7, 20]),
      base,
      flags: undefined,
      ascii: true,
      time: 1_700_000_000_000_000_000n,
      path: '/var/log/app.log',
      src: '2049:1234:0',
      pathKey: '',
    };
    const w = new EntryWriter(256, '_qlog');
    w.lines(block, 0, 2);
    const bin = Buffer.from(w.result());
    const arrays = [new Uint32Array(4), new Uint32Array(4), new Int32Array(4), new Float64Array(4)] as const;
    assert.equal(native.scanLogEntries(bin, ...arrays, new Uint32Array(8), new Float64Array(2)), 2, `base ${base}: read by the native scan`);
    assert.deepEqual([...arrays[3].subarray(0, 2)], [base + 7, base + 20]);
    assert.deepEqual(scanOf(withAddon.scanLines(bin)), scanOf(jsOnly.scanLinesJs(bin)), `base ${base}`);
  }
});

test('scanLines takes the native scan for what vsock-forward sends (the JavaScript scan is not called)', () => {
  assert.ok(nativeLines(), 'the addon is built');
  const r = rng(7);
  const reader = new EntryReader();
  let jsCalls = 0;
  const js = reader.scanLinesJs.bind(reader);
  reader.scanLinesJs = (buf: Buffer) => {
    jsCalls++;
    return js(buf);
  };
  const sent = Buffer.from(Array.from({ length: 50 }, (_, i) => sentEntry(r, i)).flat());
  assert.equal(reader.scanLines(sent)?.count, 50);
  assert.equal(jsCalls, 0, 'read by the native scan');
  // Another form (an entry with an integer time) goes to the JavaScript scan.
  const other = Buffer.from([
    0x92,
    ...packed(5),
    ...map([
      [str('log'), str('x')],
      [str('_qlog'), map([])],
    ]),
  ]);
  assert.equal(reader.scanLines(other)?.count, 1);
  assert.equal(jsCalls, 1, 'left to the JavaScript scan');
});

test('runs of entries with the same meta up to their seq (a block as sent): each seq, any type, read as the JavaScript reads it', () => {
  assert.ok(nativeLines(), 'the addon is built with the line scan (npm ci builds native/)');
  const r = rng(77);
  const withAddon = new EntryReader();
  const jsOnly = new EntryReader(false);
  // The native scan reads the meta bytes of a run once: every later entry is only its line and seq.
  const f64 = (x: number): Enc => [0xcb, ...Buffer.from(new Float64Array([x]).buffer).reverse()];
  const odd: Enc[] = [
    raw(0xc0),
    raw(0xc3),
    packed(-3),
    f64(2.5),
    f64(Number.NaN),
    f64(Number.POSITIVE_INFINITY),
    str('12'),
    raw(0xcf, 0, 0x20, 0, 0, 0, 0, 0, 7),
    raw(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00),
    raw(0xd0, 0x80),
  ];
  const seqValue = (): Enc => {
    const p = r();
    if (p < 0.8) return uint(Math.floor(r() * 2 ** (8 * (1 + Math.floor(r() * 6)))));
    if (p < 0.99) return odd[Math.floor(r() * odd.length)]!;
    return scalar(r); // now and then anything, a float32 or an array too (the message is then the decoder's)
  };
  let read = 0;
  for (let round = 0; round < 300; round++) {
    const entries: Enc[] = [];
    const runs = 1 + Math.floor(r() * 4);
    for (let k = 0; k < runs; k++) {
      const pairs: [Enc, Enc][] = [
        [str('path'), str(`/var/log/app-${k}.log`)],
        [str('src'), str(`ino:${Math.floor(r() * 2)}`)],
      ];
      if (r() < 0.3) pairs.push([str('host'), str('h')]);
      const prefix = pairs.flat(2);
      const n = 1 + Math.floor(r() * 40);
      for (let i = 0; i < n; i++) {
        const line = r() < 0.1 ? [0xa4, 0x61, 0xff, 0xc3, 0x62] : str(`line ${round}.${k}.${i} ${'x'.repeat(Math.floor(r() * 40))}`);
        entries.push([
          0x92,
          ...eventTime(1_700_000_000, i),
          0x82,
          ...str('log'),
          ...line,
          ...str('_qlog'),
          0x80 | (pairs.length + 1),
          ...prefix,
          ...str('seq'),
          ...seqValue(),
        ]);
      }
    }
    let bin = Buffer.from(entries.flat());
    // A byte changed inside a later entry (its meta no longer the run's), or the message cut short.
    if (round % 4 === 3) {
      bin = Buffer.from(bin);
      const at = Math.floor(bin.length / 2 + r() * (bin.length / 2));
      if (r() < 0.7) bin[at] = Math.floor(r() * 256);
      else bin = bin.subarray(0, at);
    }
    const want = scanOf(jsOnly.scanLinesJs(bin));
    const got = scanOf(withAddon.scanLines(bin));
    assert.deepEqual(got, want, `round ${round}`);
    if (want) read += want.count;
  }
  assert.ok(read > 3000, `lines found: ${read}`);
});
