import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { packr } from '../../../core/forward/codec.js';
import { FrameDecoder, FrameError } from '../../../core/forward/frame-decoder.js';

const samples: unknown[] = [
  null,
  true,
  0,
  -1,
  127,
  -33,
  255,
  65535,
  2 ** 32 + 5,
  -(2 ** 40),
  1.5,
  'x',
  'a'.repeat(40),
  'b'.repeat(300),
  'c'.repeat(70_000),
  Buffer.alloc(10, 1),
  Buffer.alloc(300, 2),
  Buffer.alloc(70_000, 3),
  [],
  [1, [2, [3, []]], { a: { b: [1, 2, 3] } }],
  new Array(20).fill('z'),
  new Array(70_000).fill(1),
  Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
  ['tag', Buffer.alloc(1000, 9), { chunk: 'abc', size: 3 }],
];

function collect(d: FrameDecoder, parts: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const p of parts) d.push(p, (f) => out.push(Buffer.from(f))); // a frame is valid during the call only
  return out;
}

test('frames come out whole and in order, whatever the read boundaries', () => {
  const frames = samples.map((s) => packr.pack(s));
  const all = Buffer.concat(frames);
  // One read, single bytes, and random cuts.
  const cuts: Buffer[][] = [[all], Array.from(all.subarray(0, 5000), (b) => Buffer.from([b])).concat([all.subarray(5000)])];
  for (let round = 0; round < 20; round++) {
    const parts: Buffer[] = [];
    let i = 0;
    while (i < all.length) {
      const n = 1 + Math.floor(Math.random() * 9000);
      parts.push(all.subarray(i, i + n));
      i += n;
    }
    cuts.push(parts);
  }
  for (const parts of cuts) {
    const d = new FrameDecoder({ maxFrameSize: 1 << 20 });
    const got = collect(d, parts);
    assert.equal(got.length, frames.length);
    for (const [i, f] of got.entries()) assert.ok(f.equals(frames[i]!), `frame ${i}`);
    assert.equal(d.buffered, 0);
  }
});

test('frames handed out stay intact after more data arrives', () => {
  const a = packr.pack(['first', 'x'.repeat(100)]);
  const b = packr.pack(['second', 'y'.repeat(100)]);
  const d = new FrameDecoder({ maxFrameSize: 1 << 20 });
  const got: Buffer[] = [];
  const both = Buffer.concat([a, b]);
  d.push(both.subarray(0, a.length + 3), (f) => got.push(f));
  d.push(both.subarray(a.length + 3), (f) => got.push(f));
  assert.ok(got[0]!.equals(a));
  assert.ok(got[1]!.equals(b));
});

test('an oversized frame is rejected from its header, before it is buffered', () => {
  const d = new FrameDecoder({ maxFrameSize: 1024 });
  // [tag, bin32 of 100 MB ...] : only the first 20 bytes are sent.
  const head = Buffer.concat([Buffer.from([0x93]), packr.pack('t'), Buffer.from([0xc6, 0x05, 0xf5, 0xe1, 0x00])]);
  assert.throws(
    () => d.push(head, () => {}),
    (e: unknown) => e instanceof FrameError && e.code === 'QLOG_ERR_FORWARD_FRAME_TOO_LARGE',
  );
});

test('a frame that grows past the limit element by element is rejected', () => {
  const d = new FrameDecoder({ maxFrameSize: 4096 });
  const frame = packr.pack(new Array(5000).fill(1));
  let threw: unknown;
  let buffered = 0;
  try {
    for (let i = 0; i < frame.length; i += 100) {
      d.push(frame.subarray(i, i + 100), () => assert.fail('no frame expected'));
      buffered = Math.max(buffered, d.buffered);
    }
  } catch (e) {
    threw = e;
  }
  assert.ok(threw instanceof FrameError && threw.code === 'QLOG_ERR_FORWARD_FRAME_TOO_LARGE');
  assert.ok(buffered <= 4096 + 100, `buffered ${buffered}`);
});

test('bytes that are not msgpack are rejected', () => {
  const d = new FrameDecoder({ maxFrameSize: 1024 });
  assert.throws(
    () => d.push(Buffer.from([0x91, 0xc1]), () => {}),
    (e: unknown) => e instanceof FrameError && e.code === 'QLOG_ERR_FORWARD_BAD_MSGPACK',
  );
});

test('deep nesting is rejected', () => {
  const d = new FrameDecoder({ maxFrameSize: 1 << 20, maxDepth: 64 });
  assert.throws(
    () => d.push(Buffer.alloc(1000, 0x91), () => {}),
    (e: unknown) => e instanceof FrameError && e.code === 'QLOG_ERR_FORWARD_TOO_DEEP',
  );
});

test('random garbage never hangs or over-buffers the decoder', () => {
  for (let i = 0; i < 200; i++) {
    const d = new FrameDecoder({ maxFrameSize: 64 * 1024 });
    try {
      for (let j = 0; j < 20; j++) d.push(randomBytes(4096), () => {});
    } catch (e) {
      assert.ok(e instanceof FrameError);
    }
    assert.ok(d.buffered <= 64 * 1024 + 4096);
  }
});

test('frame memory is reused: frames that span reads land in the same buffer', () => {
  const d = new FrameDecoder({ maxFrameSize: 1 << 20 });
  const frame = packr.pack(['tag', Buffer.alloc(200_000, 7), { chunk: 'x', size: 1 }]);
  const seen = new Set<ArrayBufferLike>();
  const got: Buffer[] = [];
  for (let i = 0; i < 20; i++) {
    // Each frame arrives in 64 KiB reads, as from a socket.
    for (let o = 0; o < frame.length; o += 65536)
      d.push(Buffer.from(frame.subarray(o, o + 65536)), (f) => {
        seen.add(f.buffer);
        got.push(Buffer.from(f));
      });
  }
  assert.equal(got.length, 20);
  for (const g of got) assert.ok(g.equals(frame));
  assert.ok(seen.size <= 2, `frames reuse the decoder's buffers (${seen.size} distinct)`);
});

test('take() gives a frame buffer over for good: the decoder goes on in buffers of its own', () => {
  const frames = samples.map((s) => packr.pack(s));
  const all = Buffer.concat(frames);
  for (let round = 0; round < 20; round++) {
    const allocated: Buffer[] = [];
    const d = new FrameDecoder({
      maxFrameSize: 1 << 20,
      alloc: (n) => {
        const b = Buffer.alloc(n);
        allocated.push(b);
        return b;
      },
    });
    // Every other frame taken (when it can be), the taken ones scribbled over at once, as a
    // reused buffer would be: later frames must not change.
    const got: Buffer[] = [];
    let taken = 0;
    let i = 0;
    let k = 0;
    while (i < all.length) {
      const n = 1 + Math.floor(Math.random() * 20_000);
      d.push(all.subarray(i, i + n), (f) => {
        got.push(Buffer.from(f));
        if (k++ % 2 === 1) return;
        const b = d.take();
        if (b === undefined) return;
        assert.ok(allocated.includes(b), 'the buffer taken is one the decoder allocated');
        assert.equal(f.buffer, b.buffer, 'it holds the frame');
        assert.equal(d.take(), undefined, 'taken once');
        b.fill(0xee);
        taken++;
      });
      i += n;
    }
    assert.equal(got.length, frames.length);
    for (const [j, f] of got.entries()) assert.ok(f.equals(frames[j]!), `round ${round}, frame ${j}`);
    assert.ok(taken > 0, 'some frames spanned reads and were taken');
  }
  const d = new FrameDecoder({ maxFrameSize: 1 << 20 });
  d.push(packr.pack([1]), () => assert.equal(d.take(), undefined, "a frame in the caller's buffer is not the decoder's to give"));
  assert.equal(d.take(), undefined, 'outside onFrame: nothing');
});

test('done: each pushed buffer is reported once nothing refers to it, and frames stay whole when it is overwritten', () => {
  const reported: Buffer[] = [];
  const d = new FrameDecoder({ maxFrameSize: 1 << 20, done: (b) => reported.push(b) });
  const big = packr.pack(['tag', Buffer.alloc(200_000, 7), { chunk: 'x', size: 1 }]);
  const small = packr.pack(['tag', Buffer.alloc(3000, 5), { chunk: 'y', size: 1 }]);
  // Big frames over 64 KiB reads (their first read scanned in place, held while the frame is
  // open, the others copied), then reads of several small frames each (scanned in place, done
  // with at once) with a frame cut between two reads.
  const stream = Buffer.concat([big, big, ...Array.from({ length: 60 }, () => small), big]);
  const reads: Buffer[] = [];
  for (let o = 0; o < stream.length; o += 65536) reads.push(Buffer.from(stream.subarray(o, o + 65536)));
  const got: Buffer[] = [];
  for (const read of reads) {
    const before = reported.length;
    d.push(read, (f) => got.push(Buffer.from(f)));
    // What the receiver does with a buffer reported done: free it (here: overwrite it).
    for (const b of reported.slice(before)) b.fill(0xee);
  }
  const want = [big, big, ...Array.from({ length: 60 }, () => small), big];
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(got[i]!.equals(want[i]!), `frame ${i} changed when a buffer reported done was overwritten`);
  assert.equal(new Set(reported).size, reported.length, 'a buffer reported twice');
  for (const b of reported) assert.ok(reads.includes(b), 'only buffers given to push() are reported');
  assert.equal(reported.length, reads.length, 'every read reported once the stream ended on a whole frame');
});
