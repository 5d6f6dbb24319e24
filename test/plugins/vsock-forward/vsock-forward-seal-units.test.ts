/**
 * How vsock-forward's seal: cuts a chunk into units (ChunkSealer): one per source, the position
 * where its first line began, a running seq for records without a source, units under the frame
 * size, oversized records dropped visibly, and the same units again for a retried chunk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkSealer } from '../../../plugins/vsock-forward/vsock-forward-seal.js';
import { decodeEvents, unpackFrame, encodePackedForward, META_KEY } from '../../../core/forward/index.js';
import { EntryWriter } from '../../../core/forward/entry-encoder.js';
import { ageDecrypt, generateIdentity, openUnit, parseIdentity, type Identity, type UnitHeader } from '../../../core/seal/index.js';
import { LineChunk, type Chunk, type LineBlock, type LogRecord } from '../../../core/record.js';

const id = generateIdentity();
const identity = parseIdentity(id.secret) as Identity;

/** A tail-like block: `lines` read from `base` on (each line + "\n"). */
function block(src: string, base: number, lines: string[], path = `/${src}.log`, pathKey = ''): LineBlock {
  const buf = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  const starts = new Uint32Array(lines.length);
  const ends = new Uint32Array(lines.length);
  const seqs = new Uint32Array(lines.length);
  let p = 0;
  lines.forEach((l, i) => {
    starts[i] = p;
    ends[i] = p + Buffer.byteLength(l);
    p = ends[i]! + 1;
    seqs[i] = p;
  });
  return { buf, count: lines.length, starts, ends, seqs, base, flags: undefined, ascii: true, time: 5n, path, src, pathKey };
}

interface Unit {
  header: UnitHeader;
  lines: string[];
  meta: Record<string, unknown>;
  /** What openUnit gives: the records' entries. */
  entries: Buffer;
  /** The plaintext's entries, as sealed. */
  sealed: Buffer;
}

/** The units of a sealed chunk: the cleartext meta and what is inside. */
function units(s: ChunkSealer, chunk: Chunk): Unit[] {
  const out: Unit[] = [];
  for (const p of s.seal(chunk).parts) {
    const ev = decodeEvents(unpackFrame(encodePackedForward('app', p.entries, { size: p.count })), { maxDecompressed: 1 << 24 });
    for (const r of ev.records) {
      const bytes = Buffer.from((r.body as { sealed: Uint8Array }).sealed);
      const u = openUnit(bytes, [identity], undefined);
      const inner = decodeEvents(['app', u.entries], { maxDecompressed: 1 << 24 }).records;
      const plain = ageDecrypt(bytes, [identity]);
      const sealed = plain.subarray(plain.indexOf(0x0a) + 1, plain.indexOf(0x0a) + 1 + u.header.size);
      out.push({ header: u.header, lines: inner.map((x) => x.body as string), meta: r.meta, entries: u.entries, sealed });
    }
  }
  return out;
}

test('one unit per source, starting where its first line began; the cleartext has the seq range', () => {
  const s = new ChunkSealer({ recipients: [id.recipient] }, 'fwd', 1 << 20);
  const chunk = new LineChunk('c1', 'app', [block('a', 100, ['a1', 'a2']), block('b', 0, ['b1']), block('a', 106, ['a3'])], 0);
  const us = units(s, chunk);
  assert.deepEqual(
    us.map((u) => [u.header.stream, u.header.unit, u.header.start, u.header.first, u.header.last, u.header.count, u.lines]),
    [
      ['a', 0, 100, 103, 109, 3, ['a1', 'a2', 'a3']],
      ['b', 0, 0, 3, 3, 1, ['b1']],
    ],
  );
  assert.deepEqual(
    us.map((u) => [u.meta.src, u.meta.seq_first, u.meta.seq]),
    [
      ['a', 103, 109],
      ['b', 3, 3],
    ],
  );
  // The next chunk of source a continues its chain.
  const next = units(s, new LineChunk('c2', 'app', [block('a', 109, ['a4'])], 0));
  assert.deepEqual([next[0]!.header.unit, next[0]!.header.start, next[0]!.header.prev.length], [1, 109, 64]);
});

test('a retried chunk gets the very same units; a delivered one is forgotten', () => {
  const s = new ChunkSealer({ recipients: [id.recipient] }, 'fwd', 1 << 20);
  const chunk = new LineChunk('c1', 'app', [block('a', 0, ['x', 'y'])], 0);
  const first = s.seal(chunk);
  const again = s.seal(chunk);
  assert.equal(again.again, true);
  assert.deepEqual(again.parts, first.parts);
  s.delivered('c1');
  assert.notDeepEqual(s.seal(chunk).parts, first.parts, 'sealed anew (unit 1) once delivered');
});

test('records without a source: one stream per session, a running seq, contiguous', () => {
  const s = new ChunkSealer({ recipients: [id.recipient] }, 'fwd', 1 << 20);
  const rec = (n: number): LogRecord => ({ time: 1n, tag: 'app', body: { cpu: n }, meta: {} });
  const c = (cid: string, n: number[]): Chunk => ({ id: cid, tag: 'app', records: n.map(rec), bytes: 10 });
  const [u1] = units(s, c('r1', [1, 2, 3]));
  const [u2] = units(s, c('r2', [4]));
  assert.equal(u1!.header.stream, `seal:fwd:${s.sealer.session}`);
  assert.deepEqual([u1!.header.start, u1!.header.first, u1!.header.last, u2!.header.start, u2!.header.first], [0, 1, 3, 3, 4]);
  assert.deepEqual(
    u1!.lines,
    ['{"cpu":1}', '{"cpu":2}', '{"cpu":3}'].map((j) => JSON.parse(j)),
  );
});

test('a big source makes several units under the frame size; a record too big alone is dropped (its bytes are not covered)', () => {
  const s = new ChunkSealer({ recipients: [id.recipient] }, 'fwd', 8192);
  const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${'p'.repeat(40)}`);
  lines[150] = 'X'.repeat(20_000);
  const r = s.seal(new LineChunk('big', 'app', [block('a', 0, lines)], 0));
  assert.equal(r.oversized, 1);
  for (const p of r.parts) {
    const size = p.entries.reduce((n, b) => n + b.length, 0);
    assert.ok(size <= 8192, `part of ${size} bytes`);
  }
  assert.ok(r.parts.length > 1, 'several frames');
  s.delivered('big');
  const us = units(s, new LineChunk('big', 'app', [block('a', 0, lines)], 0));
  assert.ok(us.length > 3);
  assert.deepEqual(
    us.flatMap((u) => u.lines),
    lines.filter((_, i) => i !== 150),
  );
  // Each unit starts where the one before ended; after the dropped record, its first record ends
  // more than the record's size after that start (the records do not cover those bytes).
  for (const [i, u] of us.slice(1).entries()) assert.equal(u.header.start, us[i]!.header.last);
  assert.equal(us.filter((u) => u.header.first - u.header.start! > 20_000).length, 1);
});

test('units stay under the frame size when unit 0 carries the attestation document', async () => {
  const { generateKeyPairSync, randomBytes } = await import('node:crypto');
  // A Nitro attestation document is ~4-5 KB; it rides in the header of each chain's unit 0.
  const doc = randomBytes(5000);
  const max = 63 * 1024;
  const s = new ChunkSealer({ recipients: [id.recipient], signingKey: generateKeyPairSync('ed25519').privateKey, attest: () => doc }, 'fwd', max);
  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'p'.repeat(100)}`);
  const r = s.seal(new LineChunk('att', 'app', [block('a', 0, lines), block('b', 0, lines)], 0));
  assert.equal(r.oversized, 0);
  for (const p of r.parts) {
    const size = p.entries.reduce((n, b) => n + b.length, 0);
    assert.ok(size <= max, `part of ${size} bytes, more than ${max}`);
  }
});

/** The entries of blocks as vsock-forward writes them unsealed (whole `_qlog`). */
function plainEntries(...blocks: LineBlock[]): Buffer {
  const w = new EntryWriter(1024, META_KEY);
  for (const b of blocks) w.lines(b, 0, b.count);
  return Buffer.from(w.result());
}

test("a source's lines are sealed without path and src (the header's meta has them); opened, they are the records byte for byte", () => {
  const s = new ChunkSealer({ recipients: [id.recipient] }, 'fwd', 1 << 20);
  const long = Array.from({ length: 40 }, (_, i) => `line ${i} ${'x'.repeat(i)}`);
  const a1 = block('ino:1:0', 0, long.slice(0, 30), '/var/log/app.log');
  const a2 = block('ino:1:0', 900, long.slice(30), '/var/log/app.log');
  const b = block('ino:2:0', 0, ['b1', 'b2']);
  // A file renamed while read (two paths in one unit) and a path_key of "src" keep whole entries.
  const c1 = block('ino:3:0', 0, ['c1'], '/var/log/c.log');
  const c2 = block('ino:3:0', 3, ['c2'], '/var/log/c.log.1');
  const d = block('ino:4:0', 0, ['d1'], '/var/log/d.log', 'src');
  const us = units(s, new LineChunk('c1', 'app', [a1, b, a2, c1, c2, d], 0));
  assert.deepEqual(
    us.map((u) => [u.header.stream, u.header.v, u.header.meta]),
    [
      ['ino:1:0', 2, { path: '/var/log/app.log', src: 'ino:1:0' }],
      ['ino:2:0', 2, { path: '/ino:2:0.log', src: 'ino:2:0' }],
      ['ino:3:0', 2, undefined],
      ['ino:4:0', 2, undefined],
    ],
  );
  const expected = [plainEntries(a1, a2), plainEntries(b), plainEntries(c1, c2), plainEntries(d)];
  for (const [i, u] of us.entries()) assert.ok(u.entries.equals(expected[i]!), `unit ${i}: the records as written unsealed`);
  // Inside: each record's _qlog is {seq} alone, and the path is nowhere in the entries.
  const inner = decodeEvents(['app', us[0]!.sealed], { maxDecompressed: 1 << 24 }).records;
  assert.deepEqual(
    inner.map((r) => r.meta),
    [...a1.seqs, ...a2.seqs.map((q) => q + 900)].map((seq) => ({ seq })),
  );
  assert.ok(!us[0]!.sealed.includes(Buffer.from('/var/log/app.log')));
  assert.ok(us[0]!.sealed.length < us[0]!.entries.length - 40 * 20, 'the sealed entries are smaller by path and src per record');
  assert.ok(us[2]!.sealed.equals(us[2]!.entries) && us[3]!.sealed.equals(us[3]!.entries), 'whole entries sealed as they are');
});

test("a long path in meta comes off the units' room: frames stay under max_frame_size", () => {
  const max = 64 * 1024;
  const s = new ChunkSealer({ recipients: [id.recipient] }, 'fwd', max);
  const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'p'.repeat(100)}`);
  const path = `/${'d'.repeat(3000)}.log`;
  const chunk = new LineChunk('long', 'app', [block('a', 0, lines, path)], 0);
  for (const p of s.seal(chunk).parts) {
    const size = p.entries.reduce((n, b) => n + b.length, 0);
    assert.ok(size <= max, `part of ${size} bytes, more than ${max}`);
  }
  s.delivered('long');
  const us = units(s, chunk);
  assert.ok(us.length > 2 && us.every((u) => u.header.meta?.path === path));
  assert.deepEqual(
    us.flatMap((u) => u.lines),
    lines,
  );
});
