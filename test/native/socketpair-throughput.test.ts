// 100 MB through the addon's read/write path, byte for byte.
import assert from 'node:assert/strict';
import { createHash, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { test } from 'node:test';
import { unixSocketPair } from '../../core/transport/vsock-native.js';
import { addonSkipReason, closed } from './helpers.js';

const TOTAL = 100 * 1024 * 1024;

test('100 MB transfer arrives intact and fast', { skip: addonSkipReason() }, async (t) => {
  const [writer, reader] = unixSocketPair();
  const sent = createHash('sha256');
  const recv = createHash('sha256');
  let received = 0;
  reader.on('data', (d: Buffer) => {
    recv.update(d);
    received += d.length;
  });
  const ended = once(reader, 'end');
  const started = process.hrtime.bigint();

  let written = 0;
  let i = 0;
  while (written < TOTAL) {
    // Odd chunk sizes (1 B .. ~1 MiB) so partial writes and read boundaries vary.
    const size = Math.min(TOTAL - written, 1 + ((i++ * 7919 * 131) % (1024 * 1024)));
    const chunk = randomFillSync(Buffer.allocUnsafe(size));
    sent.update(chunk);
    written += size;
    if (!writer.write(chunk)) await once(writer, 'drain');
  }
  writer.end();
  await ended;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.diagnostic(`100 MB in ${ms.toFixed(0)} ms (${(TOTAL / 1048576 / (ms / 1000)).toFixed(0)} MiB/s, incl. random fill and two sha256)`);
  assert.equal(received, TOTAL);
  assert.equal(recv.digest('hex'), sent.digest('hex'));
  assert.ok(ms < 30000, `took ${ms} ms (pathologically slow; speed targets live in test/bench)`);
  reader.end();
  writer.resume(); // sees the reader's EOF; both sides then close by themselves
  await Promise.all([closed(writer), closed(reader)]);
});
