import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import type { LogRecord } from '../../../core/record.js';
import {
  decodeEvents,
  encodeEntries,
  encodeHeartbeat,
  encodePackedForward,
  packr,
  sanitizeTag,
  unpackFrame,
  HEARTBEAT_TAG,
  ProtocolError,
} from '../../../core/forward/codec.js';

const limits = { maxDecompressed: 1 << 24 };

const records: LogRecord[] = [
  { time: 1_700_000_000_123_456_789n, tag: 'app', body: 'hello', meta: { src: 'f1', seq: 6, path: '/var/log/a.log' } },
  { time: 1_700_000_001_000_000_000n, tag: 'app', body: 'ünïcødé ✓', meta: {} },
  { time: 5n, tag: 'app', body: { cpu: 0.5, mem: 1024, nested: { a: [1, 2] } }, meta: { src: 'res', seq: 1000 } },
  { time: 1_700_000_002_000_000_000n, tag: 'app', body: '', meta: { truncated: true, extra: 'x', gone: undefined } },
];

function roundTrip(frame: Buffer) {
  return decodeEvents(unpackFrame(frame), limits);
}

test('PackedForward round trip keeps time (ns), body and meta', () => {
  const entries = encodeEntries(records);
  const ev = roundTrip(encodePackedForward('app.x', entries, { chunk: 'c1', size: records.length }));
  assert.equal(ev.mode, 'packed');
  assert.equal(ev.tag, 'app.x');
  assert.equal(ev.chunk, 'c1');
  assert.equal(ev.ackValue, 'c1');
  assert.equal(ev.invalid, 0);
  assert.equal(ev.records.length, records.length);
  ev.records.forEach((r, i) => {
    const want = records[i]!;
    assert.equal(r.time, want.time);
    assert.equal(r.tag, 'app.x');
    assert.deepEqual(r.body, want.body);
    const meta = { ...want.meta };
    delete meta.gone;
    assert.deepEqual({ ...r.meta, gone: undefined }, { ...meta, gone: undefined });
  });
});

test('CompressedPackedForward (gzip) round trip', () => {
  const entries = encodeEntries(records);
  const ev = roundTrip(encodePackedForward('t', gzipSync(entries), { chunk: 'c2', size: records.length, gzip: true }));
  assert.equal(ev.mode, 'compressed');
  assert.equal(ev.records.length, records.length);
  assert.equal(ev.records[0]!.body, 'hello');
});

test('a gzip bomb is refused', () => {
  const bomb = gzipSync(Buffer.alloc(50 << 20));
  const msg = unpackFrame(encodePackedForward('t', bomb, { size: 1, gzip: true }));
  assert.throws(() => decodeEvents(msg, { maxDecompressed: 1 << 20 }), ProtocolError);
});

test('Message mode and Forward mode as Fluent clients send them', () => {
  const m = decodeEvents(unpackFrame(packr.pack(['docker.abc', 1_700_000_000, { log: 'x', container_id: 'abc' }, { chunk: 'q' }])), limits);
  assert.equal(m.mode, 'message');
  assert.equal(m.chunk, 'q');
  assert.deepEqual(m.records[0]!.body, { log: 'x', container_id: 'abc' });
  assert.equal(m.records[0]!.time, 1_700_000_000_000_000_000n);

  const f = decodeEvents(unpackFrame(packr.pack(['a.b', [[1.5, { message: 'm1' }], [2, { message: 'm2' }], 'junk', [3, 'not a map']]])), limits);
  assert.equal(f.mode, 'forward');
  assert.equal(f.records.length, 2);
  assert.equal(f.invalid, 2);
  assert.equal(f.records[0]!.time, 1_500_000_000n);
  assert.equal(f.chunk, undefined);
});

test('the fluent-logger client (msgpack-lite, EventTime ext 0) decodes', () => {
  const require = createRequire(import.meta.url);
  const msgpack = require('msgpack-lite');
  const EventTime = require('fluent-logger').EventTime;
  const codec = msgpack.createCodec();
  codec.addExtPacker(0x00, EventTime, EventTime.pack);
  const t = new EventTime(1_700_000_000, 42);
  const entry = msgpack.encode([t, { msg: 'hi' }], { codec });
  const frame = msgpack.encode(['fl', Buffer.concat([entry, entry]), { chunk: 'zz', size: 2, compressed: 'text' }], { codec });
  const ev = roundTrip(frame);
  assert.equal(ev.records.length, 2);
  assert.equal(ev.records[0]!.time, 1_700_000_000_000_000_042n);
});

test('Fluent Bit metadata entries [[time, meta], record] decode', () => {
  const entries = Buffer.concat([packr.pack([[10, { k: 1 }], { log: 'x' }])]);
  const ev = roundTrip(encodePackedForward('fb', entries, { size: 1 }));
  assert.equal(ev.records.length, 1);
  assert.equal(ev.records[0]!.time, 10_000_000_000n);
});

test('heartbeat frames decode to no records and carry the interval', () => {
  const ev = roundTrip(encodeHeartbeat('h1', 5000));
  assert.equal(ev.tag, HEARTBEAT_TAG);
  assert.equal(ev.heartbeatMs, 5000);
  assert.equal(ev.chunk, 'h1');
  assert.equal(ev.records.length, 0);
});

test('structural garbage is a ProtocolError', () => {
  for (const bad of [null, 1, 'x', [], ['t'], [1, []], ['', []], ['t', [], 'opt'], ['t', 1], ['t', [], { chunk: 5 }]]) {
    assert.throws(() => decodeEvents(bad, limits), ProtocolError, JSON.stringify(bad));
  }
  assert.throws(() => unpackFrame(Buffer.from([0x92, 0x01])), ProtocolError);
  const bin = Buffer.from([0x92, 0xd7]); // truncated entry
  assert.throws(() => decodeEvents(['t', bin], limits), ProtocolError);
});

test('PackedForward entries carried as a msgpack str are accepted, bytes intact (str8, str16, str32)', () => {
  const entries = encodeEntries(records); // EventTime 0xd7 and map bytes: not UTF-8
  assert.ok(entries.length < 256 && !Buffer.from(entries.toString('utf8'), 'utf8').equals(entries), 'short, and not valid UTF-8');
  const want = roundTrip(encodePackedForward('app', entries, { chunk: 'c', size: records.length })).records;
  const opt = packr.pack({ chunk: 'c', size: records.length });
  for (const head of [
    Buffer.from([0xd9, entries.length]),
    Buffer.from([0xda, entries.length >> 8, entries.length & 0xff]),
    Buffer.from([0xdb, 0, 0, entries.length >> 8, entries.length & 0xff]),
  ]) {
    const frame = Buffer.concat([Buffer.from([0x93]), packr.pack('app'), head, entries, opt]);
    const ev = roundTrip(frame);
    assert.equal(ev.mode, 'packed');
    assert.equal(ev.chunk, 'c');
    assert.deepEqual(ev.records, want);
  }
  // A long tag (str16) takes the same raw path.
  const tag = 'a'.repeat(300);
  const ev = roundTrip(Buffer.concat([Buffer.from([0x92]), packr.pack(tag), Buffer.from([0xd9, entries.length]), entries]));
  assert.equal(ev.records.length, records.length);
});

test('integers keep their value end to end: number up to 2^53, bigint beyond, re-encoded as int64', () => {
  const body = { small: 42, edge: 9007199254740992, big: 9007199254740993n, neg: -9223372036854775808n, max: 18446744073709551615n };
  const rs: LogRecord[] = [{ time: 1n, tag: 't', body, meta: { src: 's', seq: 1 } }];
  const entries = encodeEntries(rs);
  // 2^53 + 1 travels as an int64 (0xd3) or uint64 (0xcf), never a float64 (0xcb).
  const big = Buffer.alloc(8);
  big.writeBigInt64BE(9007199254740993n);
  assert.ok(entries.includes(Buffer.concat([Buffer.from([0xd3]), big])));
  const fast = roundTrip(encodePackedForward('t', entries, { size: 1 })).records[0]!;
  assert.deepEqual(fast.body, body);
  // The msgpackr path (Forward mode, nested) gives the same values.
  const nested = decodeEvents(unpackFrame(packr.pack(['t', [[1, { n: { big: 9007199254740993n, edge: 9007199254740992 } }]]])), limits).records[0]!;
  assert.deepEqual(nested.body, { n: { big: 9007199254740993n, edge: 9007199254740992 } });
  // As a C client (Fluent Bit) writes it: uint64 0xcf.
  const u = Buffer.alloc(8);
  u.writeBigUInt64BE(9007199254740993n);
  const entry = Buffer.concat([Buffer.from([0x92, 0x01, 0x81, 0xa1, 0x6e, 0xcf]), u]);
  assert.deepEqual(roundTrip(encodePackedForward('t', entry, { size: 1 })).records[0]!.body, { n: 9007199254740993n });
});

test('tags are sanitized: charset, length, no leading dot, no ".."', () => {
  assert.equal(sanitizeTag('app.service-1_x'), 'app.service-1_x');
  assert.equal(sanitizeTag('../../etc/passwd'), '__._etc_passwd');
  assert.equal(sanitizeTag('a..b'), 'a.b');
  assert.equal(sanitizeTag('.hidden'), '_hidden');
  assert.equal(sanitizeTag('sp ace/ü'), 'sp_ace__');
  assert.equal(sanitizeTag('x'.repeat(300)).length, 256);
  const ev = decodeEvents(['a/../b', 1, { log: 'x' }], limits);
  assert.equal(ev.tag, 'a_.._b'.replace('..', '.'));
  assert.equal(ev.tagRewritten, true);
});

test('__proto__ keys from the wire do not pollute prototypes', () => {
  const frame = Buffer.concat([Buffer.from([0x93, 0xa1, 0x74, 0x01, 0x81, 0xa9]), Buffer.from('__proto__'), Buffer.from([0x81, 0xa1, 0x70, 0x01])]);
  const ev = decodeEvents(unpackFrame(frame), limits);
  assert.equal(ev.records.length, 1);
  assert.equal(({} as Record<string, unknown>).p, undefined);
  assert.equal(Object.getPrototypeOf(ev.records[0]!.body), Object.prototype);
});

test('an object body whose only key is log and a _qlog key decodes as a string body', () => {
  const entries = encodeEntries([{ time: 1n, tag: 't', body: { log: 'only' }, meta: { src: 's' } }]);
  const ev = roundTrip(encodePackedForward('t', entries, { size: 1 }));
  assert.equal(ev.records[0]!.body, 'only');
});

test('meta from the wire is type-checked', () => {
  const entries = packr.pack([1, { log: 'x', _qlog: { src: 5, seq: 'x', path: 1, host: 'h', other: 'kept' } }]);
  const ev = roundTrip(encodePackedForward('t', entries, { size: 1 }));
  assert.deepEqual(ev.records[0]!.meta, { host: 'h', other: 'kept' });
});

test('encodeEntryParts cuts at entry boundaries within the limit and leaves out oversized entries', async () => {
  const { encodeEntryParts } = await import('../../../core/forward/codec.js');
  const recs: LogRecord[] = Array.from({ length: 100 }, (_, i) => ({
    time: BigInt(i),
    tag: 't',
    body: i === 50 ? 'x'.repeat(5000) : `line ${i} ${'y'.repeat(80)}`,
    meta: { seq: i },
  }));
  const { parts, oversized } = encodeEntryParts(recs, 1000);
  assert.equal(oversized, 1);
  assert.ok(parts.length > 5);
  const seqs: number[] = [];
  for (const p of parts) {
    assert.ok(p.entries.length <= 1000, `part of ${p.entries.length} bytes`);
    const ev = decodeEvents(unpackFrame(encodePackedForward('t', p.entries, { size: p.count })), limits);
    assert.equal(ev.records.length, p.count);
    for (const r of ev.records) seqs.push(r.meta.seq as number);
  }
  assert.deepEqual(
    seqs,
    Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 50),
  );
  assert.equal(encodeEntryParts(recs.slice(0, 3), 1 << 20).parts.length, 1);
});
