// Backpressure: a writer whose peer stops reading sees write() === false, buffers stay
// bounded (kernel buffer + highWaterMarks), and 'drain' follows once the peer reads again.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { unixSocketPair } from '../../core/transport/vsock-native.js';
import { addonSkipReason, delay } from './helpers.js';

const CHUNK = 64 * 1024;

test('write() returns false against a stalled reader, then drains', { skip: addonSkipReason() }, async () => {
  const [writer, reader] = unixSocketPair();
  let received = 0;
  let stopped = false;
  reader.on('data', (d: Buffer) => {
    received += d.length;
    if (received >= 1024 * 1024 && !stopped) {
      stopped = true;
      reader.pause(); // the peer stops reading after 1 MiB
    }
  });
  const chunk = Buffer.alloc(CHUNK, 7);
  let written = 0;
  let drained = false;
  writer.on('drain', () => {
    drained = true;
  });

  // Write like a well-behaved producer until the stream says stop and no 'drain' comes (the
  // point: 300 ms without one is what "stalled" means here).
  for (;;) {
    written += CHUNK;
    if (!writer.write(chunk)) {
      const stalled = await Promise.race([once(writer, 'drain').then(() => false), delay(300).then(() => true)]);
      if (stalled) break;
    }
  }
  assert.ok(reader.isPaused());
  drained = false;
  // Stalled: nothing moves any more and every buffer is bounded.
  const stalledAt = received;
  const readerBuffered = reader.readableLength;
  await delay(300); // the point: nothing moves for a while
  assert.equal(received, stalledAt, 'the paused reader got no more data events');
  assert.equal(reader.readableLength, readerBuffered, 'the paused reader stopped pulling from the kernel');
  assert.equal(drained, false, 'no drain while the peer is stalled');
  assert.ok(writer.writableLength <= writer.writableHighWaterMark + CHUNK, `writer buffers ${writer.writableLength} B`);
  assert.ok(reader.readableLength <= reader.readableHighWaterMark + CHUNK, `reader buffers ${reader.readableLength} B`);
  const inKernel = written - writer.writableLength - received - reader.readableLength;
  assert.ok(inKernel >= 0 && inKernel < 8 * 1024 * 1024, `${inKernel} B in kernel buffers`);

  // The peer resumes: 'drain' fires and every byte arrives.
  const drain = once(writer, 'drain');
  reader.resume();
  await drain;
  writer.end();
  await once(reader, 'end');
  assert.equal(received, written);
  writer.destroy();
  reader.destroy();
});

test('memory stays bounded when a fast writer respects backpressure against a slow reader', { skip: addonSkipReason() }, async () => {
  const [writer, reader] = unixSocketPair();
  let received = 0;
  let maxWriterBuffered = 0;
  let maxReaderBuffered = 0;
  reader.on('data', (d: Buffer) => {
    received += d.length;
    maxReaderBuffered = Math.max(maxReaderBuffered, reader.readableLength);
    reader.pause();
    setTimeout(() => reader.resume(), 1); // slow consumer
  });
  const chunk = Buffer.alloc(CHUNK, 1);
  const total = 16 * 1024 * 1024;
  for (let written = 0; written < total; written += CHUNK) {
    const ok = writer.write(chunk);
    maxWriterBuffered = Math.max(maxWriterBuffered, writer.writableLength);
    if (!ok) await once(writer, 'drain');
  }
  writer.end();
  await once(reader, 'end');
  assert.equal(received, total);
  assert.ok(maxWriterBuffered <= writer.writableHighWaterMark + CHUNK, `writer peak ${maxWriterBuffered} B`);
  assert.ok(maxReaderBuffered <= reader.readableHighWaterMark + CHUNK, `reader peak ${maxReaderBuffered} B`);
  writer.destroy();
  reader.destroy();
});
