/**
 * Forwarded sealed units (EntryChunk with units, as the vsock input emits them) are written as
 * their `qlog-sealed/1` lines straight from the entries' bytes: the file, the dedupe marks (closing
 * units have no seq and are never dropped), the rotation points and the counters must be exactly
 * those of writing the same chunks' records, in any format. Messages that are not all units (or
 * a unit the scan does not read) take the record path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BufferPool } from '../../../core/buffer-pool.js';
import { decodeEvents, packr } from '../../../core/forward/codec.js';
import { EntryReader } from '../../../core/forward/entry-decoder.js';
import { EntryChunk, entryBlocks, newChunkId } from '../../../core/record.js';
import { SEALED_RECORD_BYTES } from '../../../core/sealed-record.js';
import { parseSealedLine } from '../../../core/seal/line.js';
import type { PeerIdentity } from '../../../core/transport/index.js';
import { entryBlock } from '../../../plugins/vsock/vsock-receiver.js';
import { tempDir } from '../../helpers/tmp.js';
import { openRotatedFile, stateWithoutInodes } from './harness.js';

const vsock: PeerIdentity = { transport: 'vsock', cid: 16, label: 'vsock:16' } as PeerIdentity;
const unix: PeerIdentity = { transport: 'unix', label: 'unix:/run/q.sock#1' } as PeerIdentity;

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

const TIME = Buffer.from([0xd7, 0, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 7]);

/** One entry `[EventTime, {sealed: <bin>, _qlog: meta}]`. */
function unitEntry(bytes: Buffer, meta: Record<string, unknown> | undefined): Buffer {
  return Buffer.concat([Buffer.from([0x92]), TIME, packr.pack(meta === undefined ? { sealed: bytes } : { sealed: bytes, _qlog: meta })]);
}

const SRCS = ['inode-1', 'a b%c', 'ünï', ''];

/** PackedForward entries of sealed units: resends, closing units (no seq), units without src. */
function units(r: () => number, n: number, seq: { [src: string]: number }): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const src = SRCS[Math.floor(r() * SRCS.length)]!;
    const size = r() < 0.2 ? 100_000 + Math.floor(r() * 5) : Math.floor(r() * 700);
    const bytes = Buffer.alloc(size);
    for (let k = 0; k < size; k += 97) bytes[k] = Math.floor(r() * 256);
    const first = (seq[src] ?? 0) + 1;
    // Mostly forward, sometimes a resend (at or below the mark).
    const last = r() < 0.2 ? Math.max(1, first - 1 - Math.floor(r() * 20)) : first + Math.floor(r() * 40);
    seq[src] = Math.max(seq[src] ?? 0, last);
    const pick = r();
    const meta =
      pick < 0.1
        ? { src, end: true, seq_first: last, seq_last: last, sealed_size: size }
        : pick < 0.15
          ? { sealed_size: size, seq: last }
          : { src, seq: last, seq_first: first, sealed_size: size };
    out.push(unitEntry(bytes, meta));
  }
  return Buffer.concat(out);
}

function chunkOf(bin: Buffer, reader: EntryReader, pool: BufferPool, peer: PeerIdentity): EntryChunk {
  const ev = decodeEvents(['app', bin], { maxDecompressed: 1 << 24, reader, lines: true });
  assert.ok(ev.lines?.scan.sealed, 'sealed units are kept as entries');
  const block = entryBlock(ev.lines, peer, pool, new BufferPool(1 << 16, 2));
  assert.ok(block.units);
  return new EntryChunk(newChunkId(), 'app', [block], ev.lines.scan.count * SEALED_RECORD_BYTES);
}

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) out[f] = readFileSync(join(dir, f)).toString('hex');
  return out;
}

for (const [format, peer] of [
  ['line', vsock],
  ['json', unix],
] as const) {
  test(`sealed units are written byte for byte as their records would be (format ${format}, ${peer.transport} peer)`, async (t) => {
    const dir = tempDir(t);
    const opts = { file: '${tag}.log', rotate_size: '300KB', rotate_num: 50, format };
    const bytesOut = await openRotatedFile(t, { ...opts, workspace: join(dir, 'a') }, join(dir, 'sa'));
    const recordsOut = await openRotatedFile(t, { ...opts, workspace: join(dir, 'b') }, join(dir, 'sb'));
    const r = rng(format === 'line' ? 11 : 12);
    const seq = {};
    const reader = new EntryReader();
    const pool = new BufferPool(1 << 16, 2);
    for (let i = 0; i < 30; i++) {
      const a = chunkOf(units(r, 1 + Math.floor(r() * 6), seq), reader, pool, peer);
      // Several messages merged into one chunk, as the output merges queued chunks.
      const more = r() < 0.3 ? chunkOf(units(r, 3, seq), reader, pool, peer) : undefined;
      const merged = more ? a.with(newChunkId(), [...a.blocks!, ...more.blocks!], a.bytes + more.bytes) : a;
      const b = merged.with(merged.id, [...merged.blocks!], merged.bytes);
      assert.ok(b.records.length > 0); // this one is written as records
      assert.ok(entryBlocks(merged), 'the other is still bytes');
      await bytesOut.flush(merged);
      await recordsOut.flush(b);
    }
    assert.deepEqual(files(join(dir, 'a')), files(join(dir, 'b')));
    for (const k of ['lines_written', 'duplicates_skipped', 'rotations', 'bytes_written'])
      assert.equal(bytesOut.counters.get(k), recordsOut.counters.get(k), k);
    assert.ok(bytesOut.counters.get('duplicates_skipped') > 0, 'resends were skipped');
    assert.ok(bytesOut.counters.get('rotations') > 3, 'files rotated');
    const lines = readFileSync(join(dir, 'a', 'app.log'), 'utf8')
      .split('\n')
      .filter(Boolean);
    assert.ok(lines.length > 0);
    for (const l of lines) assert.ok(!('error' in parseSealedLine(l)), l.slice(0, 60));
    assert.equal(stateWithoutInodes(join(dir, 'sa'), 'app.log'), stateWithoutInodes(join(dir, 'sb'), 'app.log'));
  });
}

test('closing units (no seq) are written even below the marks', async (t) => {
  const dir = tempDir(t);
  const out = await openRotatedFile(t, { file: 'out.log', workspace: join(dir, 'w') }, join(dir, 's'));
  const reader = new EntryReader();
  const pool = new BufferPool(1 << 16, 2);
  const one = Buffer.from('unit');
  const bin = Buffer.concat([
    unitEntry(one, { src: 's', seq: 10, seq_first: 1 }),
    unitEntry(one, { src: 's', seq: 10, seq_first: 1 }),
    unitEntry(one, { src: 's', end: true, seq_first: 10, seq_last: 10 }),
    unitEntry(one, { src: 's', end: true, seq_first: 10, seq_last: 10 }),
  ]);
  await out.flush(chunkOf(bin, reader, pool, vsock));
  const b64 = one.toString('base64');
  assert.equal(
    readFileSync(join(dir, 'w', 'out.log'), 'utf8'),
    `qlog-sealed/1 cid16/s 1-10 ${b64}\nqlog-sealed/1 cid16/s 10-10 ${b64}\nqlog-sealed/1 cid16/s 10-10 ${b64}\n`,
  );
  assert.equal(out.counters.get('duplicates_skipped'), 1);
});

test('messages that are not all units the scan reads take the record path', () => {
  const reader = new EntryReader();
  const unit = unitEntry(Buffer.from('u'), { src: 's', seq: 1 });
  const line = Buffer.concat([Buffer.from([0x92]), TIME, packr.pack({ log: 'plain', _qlog: { src: 's', seq: 2 } })]);
  const cases: [string, Buffer][] = [
    ['a unit and a plain line', Buffer.concat([unit, line])],
    ['a plain line and a unit', Buffer.concat([line, unit])],
    ['seq_first not a number', unitEntry(Buffer.from('u'), { src: 's', seq: 1, seq_first: '1' })],
    ['seq_last infinite', unitEntry(Buffer.from('u'), { src: 's', seq_last: Infinity })],
    ['no _qlog', unitEntry(Buffer.from('u'), undefined)],
    ['sealed as a str', Buffer.concat([Buffer.from([0x92]), TIME, packr.pack({ sealed: 'u', _qlog: { src: 's', seq: 1 } })])],
    ['sealed and log', Buffer.concat([Buffer.from([0x92]), TIME, packr.pack({ sealed: Buffer.from('u'), log: 'x' })])],
  ];
  for (const [what, bin] of cases) {
    const ev = decodeEvents(['app', bin], { maxDecompressed: 1 << 24, reader, lines: true });
    assert.equal(ev.lines, undefined, what);
    assert.ok(ev.records.length > 0, what);
  }
  const ok = decodeEvents(['app', Buffer.concat([unit, unit])], { maxDecompressed: 1 << 24, reader, lines: true });
  assert.equal(ok.lines?.scan.sealed, true);
  assert.equal(ok.lines?.scan.count, 2);
  const plain = decodeEvents(['app', Buffer.concat([line, line])], { maxDecompressed: 1 << 24, reader, lines: true });
  assert.equal(plain.lines?.scan.sealed, false);
});
