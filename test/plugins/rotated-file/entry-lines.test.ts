/**
 * Forwarded plain lines (EntryChunk, as the vsock input emits them) are copied into the file as
 * bytes: the file, the dedupe marks, the rotation points and the counters must be exactly those
 * of writing the same chunks' records.
 */
import { type TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BufferPool } from '../../../core/buffer-pool.js';
import { decodeEvents, packr } from '../../../core/forward/codec.js';
import { EntryReader } from '../../../core/forward/entry-decoder.js';
import { nativeLines } from '../../../core/native-lines.js';
import { EntryChunk, entryBlocks, newChunkId } from '../../../core/record.js';
import type { PeerIdentity } from '../../../core/transport/index.js';
import { entryBlock } from '../../../plugins/vsock/vsock-receiver.js';
import { tempDir } from '../../helpers/tmp.js';
import { openRotatedFile, stateWithoutInodes } from './harness.js';

const peer: PeerIdentity = { transport: 'vsock', cid: 16, label: 'vsock:16' } as PeerIdentity;

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

interface Mix {
  /** Share of lines with bytes that are not UTF-8 (such a part is decoded line by line). */
  invalid: number;
  /** Chance that a line's src differs from the line before's. */
  switchSrc: number;
}

/** PackedForward entries of plain lines; some lines hold bytes that are not UTF-8. */
function entries(r: () => number, n: number, seq: { [src: string]: number }, mix: Mix = { invalid: 0.1, switchSrc: 1 }): Buffer {
  const out: Buffer[] = [];
  let src = 'inode-0';
  for (let i = 0; i < n; i++) {
    if (r() < mix.switchSrc) src = `inode-${Math.floor(r() * 3)}`;
    // Mostly forward, sometimes a resend (at or below the mark), sometimes no src/seq at all.
    const step = r() < 0.2 ? -Math.floor(r() * 5) : 1 + Math.floor(r() * 3);
    seq[src] = Math.max(0, (seq[src] ?? 0) + step);
    const pick = r();
    const text =
      pick < mix.invalid
        ? Buffer.from([0x61, 0xff, 0xe2, 0x82, 0x0a, 0x62])
        : Buffer.from(pick < mix.invalid + 0.2 ? `ünïcødé ✓ ${i}` : `line ${i} ${'x'.repeat(Math.floor(r() * 90))}`);
    const meta = r() < 0.1 ? { path: '/var/log/app.log' } : { path: '/var/log/app.log', src, seq: seq[src] };
    const body = packr.pack({ log: 'L', _qlog: meta });
    // Swap the placeholder 'L' (a1 4c) for the line's bytes as a str8.
    const at = body.indexOf(Buffer.from([0xa1, 0x4c]));
    const str = Buffer.concat([Buffer.from([0xd9, text.length]), text]);
    const time = Buffer.from([0xd7, 0, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, i & 0xff]);
    out.push(Buffer.concat([Buffer.from([0x92]), time, body.subarray(0, at), str, body.subarray(at + 2)]));
  }
  return Buffer.concat(out);
}

function chunkOf(bin: Buffer, reader: EntryReader, pool: BufferPool): EntryChunk {
  const ev = decodeEvents(['app', bin], { maxDecompressed: 1 << 24, reader, lines: true });
  assert.ok(ev.lines, 'plain lines are kept as entries');
  const block = entryBlock(ev.lines, peer, pool, new BufferPool(1 << 16, 2));
  return new EntryChunk(newChunkId(), 'app', [block], ev.lines.scan.bytes);
}

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) out[f] = readFileSync(join(dir, f)).toString('hex');
  return out;
}

/** Writes 40 random chunks both ways (as bytes, as records); the files, counters and state must be the same. */
async function writeBoth(t: TestContext, seed: number, mix: Mix, rotateSize: string) {
  const dir = tempDir(t);
  const opts = { file: '${tag}.log', rotate_size: rotateSize, rotate_num: 50 };
  const bytesOut = await openRotatedFile(t, { ...opts, workspace: join(dir, 'a') }, join(dir, 'sa'));
  const recordsOut = await openRotatedFile(t, { ...opts, workspace: join(dir, 'b') }, join(dir, 'sb'));
  const r = rng(seed);
  const seq = {};
  const reader = new EntryReader();
  const pool = new BufferPool(1 << 16, 2);
  for (let i = 0; i < 40; i++) {
    const bin = entries(r, 1 + Math.floor(r() * 60), seq, mix);
    // Several messages merged into one chunk, as the output merges queued chunks.
    const a = chunkOf(bin, reader, pool);
    const more = r() < 0.3 ? chunkOf(entries(r, 5, seq, mix), reader, pool) : undefined;
    const merged = more ? a.with(newChunkId(), [...a.blocks!, ...more.blocks!], a.bytes + more.bytes) : a;
    const b = merged.with(merged.id, [...merged.blocks!], merged.bytes);
    assert.ok(b.records.length > 0); // this one is written as records
    assert.ok(entryBlocks(merged), 'the other is still bytes');
    await bytesOut.flush(merged);
    await recordsOut.flush(b);
  }
  assert.deepEqual(files(join(dir, 'a')), files(join(dir, 'b')));
  for (const k of ['lines_written', 'duplicates_skipped', 'rotations', 'bytes_written']) assert.equal(bytesOut.counters.get(k), recordsOut.counters.get(k), k);
  assert.ok(bytesOut.counters.get('duplicates_skipped') > 0, 'resends were skipped');
  assert.ok(bytesOut.counters.get('rotations') > 3, 'files rotated');
  assert.ok(readFileSync(join(dir, 'a', 'app.log')).length > 0);
  // The state files (marks per src, sizes) are the same too.
  assert.equal(stateWithoutInodes(join(dir, 'sa'), 'app.log'), stateWithoutInodes(join(dir, 'sb'), 'app.log'));
}

test('entry lines are written byte for byte as their records would be: dedupe, rotation, invalid UTF-8', async (t) => {
  await writeBoth(t, 5, { invalid: 0.1, switchSrc: 1 }, '3000B');
});

test('runs of one source in valid UTF-8 (copied by the addon, run by run) are written as their records would be', async (t) => {
  assert.ok(nativeLines(), 'the addon is built (npm ci builds native/)');
  // Sources change every ~20 lines, with resends inside runs; rotation inside runs.
  for (const [seed, size] of [
    [7, '2000B'],
    [8, '3333B'],
  ] as const)
    await writeBoth(t, seed, { invalid: 0, switchSrc: 0.05 }, size);
});
