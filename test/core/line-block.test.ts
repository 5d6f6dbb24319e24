/**
 * Lines kept as bytes (LineBlock / LineChunk): the records they become, what they cost, and
 * the PackedForward entries written straight from their bytes, which must be byte for byte
 * the entries of the records they stand for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import {
  blockRecord,
  chunkCost,
  lineBlocks,
  LineChunk,
  LINE_INVALID_UTF8,
  LINE_TRUNCATED,
  recordCount,
  RECORD_OVERHEAD,
  type Chunk,
  type LineBlock,
} from '../../core/record.js';
import {
  decodeEvents,
  encodeEntries,
  encodeEntriesInto,
  encodeEntryParts,
  encodePackedForward,
  packedForwardAround,
  packedForwardHeadRoom,
} from '../../core/forward/codec.js';
import { EntryWriter } from '../../core/forward/entry-encoder.js';
import { nativeLines } from '../../core/native-lines.js';

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

/** A block of random lines: ASCII or not, short and long, some flagged, one invalid UTF-8. */
function makeBlock(r: () => number, pathKey = '', base = 1000, plain = false): LineBlock {
  const parts: Buffer[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const seqs: number[] = [];
  const flags: number[] = [];
  let pos = 0;
  const n = 1 + Math.floor(r() * 60);
  for (let i = 0; i < n; i++) {
    // plain: no line with a flag (no invalid UTF-8, none truncated), as most tailed blocks are.
    let kind = Math.floor(r() * 7);
    if (plain && kind === 4) kind = 5;
    const line =
      kind === 0
        ? Buffer.from('')
        : kind === 1
          ? Buffer.from(`ünïcødé ✓ line ${i}`)
          : kind === 2
            ? Buffer.from('x'.repeat(200 + Math.floor(r() * 100)))
            : kind === 3
              ? Buffer.from('y'.repeat(70_000))
              : kind === 4
                ? Buffer.from([0x61, 0xff, 0xfe, 0x62]) // invalid UTF-8
                : Buffer.from(`2026-11-23 INFO request ${i} ok`);
    starts.push(pos);
    ends.push(pos + line.length);
    parts.push(line, Buffer.from('\n'));
    pos += line.length + 1;
    seqs.push(pos);
    flags.push(plain ? 0 : (kind === 4 ? LINE_INVALID_UTF8 : 0) | (r() < 0.1 ? LINE_TRUNCATED : 0));
  }
  const buf = Buffer.concat([...parts, Buffer.alloc(Math.floor(r() * 100))]); // capacity beyond the lines
  return {
    buf,
    count: n,
    starts: Uint32Array.from(starts),
    ends: Uint32Array.from(ends),
    seqs: Uint32Array.from(seqs),
    base,
    flags: flags.some((f) => f) ? Uint8Array.from(flags) : undefined,
    ascii: isAscii(buf.subarray(0, pos)),
    time: 1_700_000_000_123_456_789n + BigInt(Math.floor(r() * 1e9)),
    path: '/var/log/app.log',
    src: '2049:1234:0',
    pathKey,
  };
}

test('a block writes exactly the entries of the records it stands for', () => {
  const r = rng(11);
  for (let round = 0; round < 100; round++) {
    const pathKey = ['', '', 'file', 'src', 'seq'][round % 5]!;
    const blocks = [makeBlock(r, pathKey, round * 1e9), makeBlock(r, pathKey, 2 ** 40 + round)];
    const records = blocks.flatMap((b) => Array.from({ length: b.count }, (_, i) => blockRecord(b, i, 'app')));
    const fromRecords = Buffer.from(encodeEntries(records));
    const chunk = new LineChunk('c', 'app', blocks, 0);
    const { parts } = encodeEntryParts(chunk, 1 << 30);
    assert.equal(parts.length, 1);
    assert.ok(Buffer.from(parts[0]!.entries).equals(fromRecords), `round ${round} (path_key "${pathKey}"): entries differ`);
    assert.equal(parts[0]!.count, records.length);
    assert.ok(chunk.blocks, 'encoding did not build records');
  }
});

test('blocks without flags, written by the addon (native/lines.cc), are the entries of their records too', () => {
  const native = nativeLines();
  assert.ok(native, 'the addon is built with the line encoder (npm ci builds native/)');
  const r = rng(5);
  for (let round = 0; round < 100; round++) {
    // Seqs up to 2^53 - 1 (written by the addon as uint64), and past it (left to the JavaScript: a float).
    const base = [1000, 2 ** 32 - 500, 2 ** 53 - 1 - 10_000_000, 2 ** 53 + 2 ** 20][round % 4]!;
    const blocks = [makeBlock(r, '', base, true), makeBlock(r, '', base + 1e6, true)];
    const records = blocks.flatMap((b) => Array.from({ length: b.count }, (_, i) => blockRecord(b, i, 'app')));
    const { parts } = encodeEntryParts(new LineChunk('c', 'app', blocks, 0), 1 << 30);
    assert.ok(Buffer.from(parts[0]!.entries).equals(Buffer.from(encodeEntries(records))), `round ${round}: entries differ`);
    // The addon took the blocks whose seqs fit in 2^53 (the path compared above), and only those.
    const b = blocks[0]!;
    const dst = Buffer.alloc(b.buf.length + b.count * 200);
    const head = Buffer.from([0x92]);
    const got: number = native.encodeLines(dst, 0, head, head, b.buf, b.starts, b.ends, b.seqs, b.base, 0, b.count, undefined);
    assert.equal(got < 0, b.base + b.seqs[b.count - 1]! > Number.MAX_SAFE_INTEGER, `round ${round}: base ${b.base}`);
  }
});

test('a block whose invalid UTF-8 lines grow the writer as they are decoded writes the same entries', () => {
  // Each invalid byte becomes U+FFFD (3 bytes): the writer grows in the middle of an entry.
  const line = Buffer.alloc(300, 0xff);
  const buf = Buffer.concat([line, Buffer.from('\n'), Buffer.from('ok\n'), line, Buffer.from('\n')]);
  const block: LineBlock = {
    buf,
    count: 3,
    starts: Uint32Array.from([0, 301, 304]),
    ends: Uint32Array.from([300, 303, 604]),
    seqs: Uint32Array.from([301, 304, 605]),
    base: 0,
    flags: Uint8Array.from([LINE_INVALID_UTF8, 0, LINE_INVALID_UTF8]),
    ascii: false,
    time: 1_700_000_000_123_456_789n,
    path: '/var/log/app.log',
    src: '2049:1234:0',
    pathKey: '',
  };
  const w = new EntryWriter(256, '_qlog');
  w.lines(block, 0, 3);
  assert.ok(w.capacity > 256);
  const records = Array.from({ length: 3 }, (_, i) => blockRecord(block, i, 'app'));
  assert.ok(Buffer.from(w.result()).equals(Buffer.from(encodeEntries(records))));
});

test('block records: invalid UTF-8 replaced and flagged, truncated flagged, seq from base, path_key repeated', () => {
  const buf = Buffer.from('ok\na\xffb\nlong piece\n', 'latin1');
  const b: LineBlock = {
    buf,
    count: 3,
    starts: Uint32Array.from([0, 3, 7]),
    ends: Uint32Array.from([2, 6, 17]),
    seqs: Uint32Array.from([3, 7, 18]),
    base: 5_000_000_000,
    flags: Uint8Array.from([0, LINE_INVALID_UTF8, LINE_TRUNCATED]),
    ascii: false,
    time: 7n,
    path: '/l/a.log',
    src: 's1',
    pathKey: 'file',
  };
  assert.deepEqual(
    [0, 1, 2].map((i) => blockRecord(b, i, 't')),
    [
      { time: 7n, tag: 't', body: 'ok', meta: { path: '/l/a.log', src: 's1', seq: 5_000_000_003, file: '/l/a.log' } },
      { time: 7n, tag: 't', body: 'a\ufffdb', meta: { path: '/l/a.log', src: 's1', seq: 5_000_000_007, file: '/l/a.log', invalid_utf8: true } },
      { time: 7n, tag: 't', body: 'long piece', meta: { path: '/l/a.log', src: 's1', seq: 5_000_000_018, file: '/l/a.log', truncated: true } },
    ],
  );
  // The entries decode to the same records on the receiving side.
  const { parts } = encodeEntryParts(new LineChunk('c', 't', [b], 0), 1 << 20);
  const ev = decodeEvents(['t', Buffer.from(parts[0]!.entries)], { maxDecompressed: 1 << 20 });
  assert.deepEqual(
    ev.records.map((x) => [x.body, x.meta]),
    [0, 1, 2].map((i) => [blockRecord(b, i, 't').body, blockRecord(b, i, 't').meta]),
  );
});

test('LineChunk builds records once, on demand; count and cost without building them', () => {
  const r = rng(5);
  const blocks = [makeBlock(r), makeBlock(r)];
  const n = blocks[0]!.count + blocks[1]!.count;
  const c = new LineChunk('id', 'tag', blocks, 123);
  assert.equal(recordCount(c), n);
  assert.equal(lineBlocks(c), c.blocks);
  assert.equal(chunkCost(c), blocks[0]!.buf.length + blocks[1]!.buf.length + n * 13);
  const recs = c.records;
  assert.equal(recs.length, n);
  assert.equal(c.records, recs, 'built once');
  assert.equal(lineBlocks(c), undefined, 'no blocks once records exist (they may have changed)');
  recs.pop();
  assert.equal(recordCount(c), n - 1);
  assert.equal(chunkCost(c), 123 + (n - 1) * RECORD_OVERHEAD);
  c.records = [];
  assert.equal(recordCount(c), 0);
});

test('a chunk encoded into a frame buffer (vsock-forward) is byte for byte the message encodeEntryParts and encodePackedForward make', () => {
  const r = rng(11);
  let inPlace = 0;
  for (let round = 0; round < 120; round++) {
    const pathKey = round % 5 === 0 ? 'file' : '';
    const blocks = [makeBlock(r, pathKey, 1000 + round, round % 2 === 0), makeBlock(r, pathKey, 2 ** 40 + round, round % 3 === 0)];
    // Now and then a chunk of records (a filter made them), not of blocks.
    const records = blocks.flatMap((b) => Array.from({ length: b.count }, (_, i) => blockRecord(b, i, 'app')));
    const chunk: Chunk = round % 4 === 3 ? { id: `r${round}`, tag: 'app', records, bytes: 0 } : new LineChunk(`c${round}`, 'app.x', blocks, 0);
    // A frame size around the chunk's: some fit, some take several messages (then: undefined).
    const maxBytes = round % 3 === 0 ? 1 << 20 : 2000 + Math.floor(r() * 150_000);
    const frame = Buffer.alloc(maxBytes + 64, 0xee);
    const room = packedForwardHeadRoom(chunk.tag);
    const part = encodeEntriesInto(chunk, maxBytes, frame, room);
    const { parts, oversized } = encodeEntryParts(chunk, maxBytes);
    const opts = { chunk: chunk.id, size: 0 };
    if (parts.length !== 1 || oversized) {
      assert.equal(part, undefined, `round ${round}: more than one message, or an entry too big: not in place`);
      continue;
    }
    assert.ok(part, `round ${round}: one message, written in place`);
    const msg = packedForwardAround(chunk.tag, frame, part.entries, { ...opts, size: part.count });
    assert.ok(msg, `round ${round}: the message fits around its entries`);
    assert.ok(msg.equals(encodePackedForward(chunk.tag, parts[0]!.entries, { ...opts, size: parts[0]!.count })), `round ${round}: same bytes`);
    assert.equal(msg.buffer, frame.buffer, 'a view of the frame buffer, not a copy');
    inPlace++;
  }
  assert.ok(inPlace > 30, `chunks encoded in place: ${inPlace}`);
  // No room for the options after the entries: undefined, the frame left to the caller.
  const small = new LineChunk('s', 'app', [makeBlock(rng(3), '', 1, true)], 0);
  const room = packedForwardHeadRoom('app');
  const frame = Buffer.alloc(1 << 20);
  const p = encodeEntriesInto(small, 1 << 20, frame, room);
  assert.ok(p, 'the entries fit');
  const end = p.entries.byteOffset - frame.byteOffset + p.entries.length;
  assert.equal(packedForwardAround('app', frame.subarray(0, end + 2), p.entries, { chunk: 's', size: p.count }), undefined);
  // Entries that outgrow the buffer move to the writer's own: undefined.
  assert.equal(encodeEntriesInto(small, 1 << 20, Buffer.alloc(room + 10), room), undefined);
});
