// destroy(): closes the fd and stops the poll, is idempotent, is safe from inside a poll
// callback and while a write is waiting for the kernel; nothing leaks.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { unixSocketPair } from '../../core/transport/vsock-native.js';
import { waitFor } from '../helpers/wait.js';
import { addonSkipReason, closed, delay, fdCount } from './helpers.js';

const skip = addonSkipReason();

test('destroy while a write is waiting for the kernel', { skip }, async () => {
  const [writer, reader] = unixSocketPair(); // the reader never reads: the kernel buffer fills
  const chunk = Buffer.alloc(256 * 1024, 1);
  const callbacks: Array<Error | null | undefined> = [];
  let writes = 0;
  while (writer.write(chunk, (err) => callbacks.push(err))) writes++;
  writer.write(chunk, (err) => callbacks.push(err)); // buffered in the stream
  writes += 2;
  // write() calls into the kernel synchronously: the last write is already waiting for it.
  assert.ok(writer.writableLength > 0, 'data is pending');
  let errored = false;
  writer.on('error', () => {
    errored = true;
  });
  writer.destroy();
  writer.destroy(); // twice is fine
  await closed(writer);
  // The callbacks of the pending and the buffered write are released on ticks after 'close'.
  await waitFor(() => callbacks.length === writes, { timeoutMs: 1000, what: () => `every write callback (${callbacks.length} of ${writes})` });
  assert.equal(errored, false, 'destroy() without an error emits no error');
  // The peer gets what the kernel had already taken, then EOF.
  let got = 0;
  reader.on('data', (d: Buffer) => {
    got += d.length;
  });
  await once(reader, 'end');
  assert.ok(got > 0 && got < writes * chunk.length, `peer got ${got} B`);
  reader.destroy();
});

test('destroy from inside a data handler (poll callback in progress)', { skip }, async () => {
  const [writer, reader] = unixSocketPair();
  let received = 0;
  let bound = -1;
  reader.on('data', (d: Buffer) => {
    received += d.length;
    if (bound < 0) {
      reader.destroy();
      // The stream may still hand out what it had buffered, but nothing more is read.
      bound = received + reader.readableLength;
    }
  });
  writer.on('error', () => {
    /* EPIPE/ECONNRESET once the reader is gone is expected */
  });
  writer.write(Buffer.alloc(4 * 1024 * 1024));
  await closed(reader);
  await delay(20); // the point: nothing more arrives after the destroy
  assert.ok(received <= bound, `${received} B delivered, ${bound} B were read before destroy`);
  writer.destroy();
  await closed(writer);
});

test('destroying a socket whose poll event is pending in the same loop turn', { skip }, async () => {
  // Two pairs become readable together; whichever handler runs first destroys the other
  // reader, whose event may already be queued by libuv for this turn.
  const [w1, r1] = unixSocketPair();
  const [w2, r2] = unixSocketPair();
  let firstSeen = '';
  let dataAfterDestroy = false;
  r1.on('data', () => {
    if (!firstSeen) {
      firstSeen = 'r1';
      r2.destroy();
    } else if (r1.destroyed) dataAfterDestroy = true;
  });
  r2.on('data', () => {
    if (!firstSeen) {
      firstSeen = 'r2';
      r1.destroy();
    } else if (r2.destroyed) dataAfterDestroy = true;
  });
  // Both readers start polling on the next tick (no event says so): a timer turn is enough.
  await delay(5);
  w1.write('a');
  w2.write('b');
  await waitFor(() => firstSeen, { timeoutMs: 1000, what: 'a data event' });
  // The point: no data event for the destroyed reader, at least 30 ms after its 'close'.
  await Promise.all([closed(firstSeen === 'r1' ? r2 : r1), delay(30)]);
  assert.equal(dataAfterDestroy, false);
  for (const s of [w1, w2, r1, r2]) s.destroy();
  await Promise.all([w1, w2, r1, r2].map(closed));
});

test('destroy with an error emits it once, then close', { skip }, async () => {
  const [a, b] = unixSocketPair();
  const err = new Error('boom');
  const seen: Error[] = [];
  a.on('error', (e) => seen.push(e));
  const done = closed(a);
  a.resume();
  a.destroy(err);
  a.destroy(new Error('second'));
  await done;
  assert.deepEqual(seen, [err]);
  b.destroy();
});

test('no fd leak after many pairs with I/O and destroy', { skip }, async () => {
  const before = fdCount();
  const all: Duplex[] = [];
  for (let i = 0; i < 300; i++) {
    const [a, b] = unixSocketPair();
    all.push(a, b);
    b.resume();
    a.write('x'.repeat(1000));
    if (i % 2) a.end();
    else a.destroy();
    b.destroy();
    a.destroy();
  }
  await Promise.all(all.map(closed));
  assert.equal(fdCount(), before);
});
