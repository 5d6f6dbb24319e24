// Rogue and unauthorized peers against a running parent: dropped with a logged reason, while the
// legitimate enclave's stream goes on, exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { assertDelivered, enclaveConfig, messages, outLines, parentConfig, resetSource, start, stop, waitForCount, writeLines } from './link.js';

function rogue(path: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(path, () => s.write(bytes));
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.resume();
    setTimeout(() => {
      s.destroy();
      resolve();
    }, 5000).unref();
  });
}

test('rogue peers (random bytes, an oversized frame) are dropped; the enclave stream continues', async (t) => {
  const N = 30_000;
  const dir = tempDir(t, 'qlog-link-');
  resetSource(dir);
  writeLines(dir, 1, N / 2);
  const path = join(dir, 'parent.sock');
  // connect_timeout 2s: random bytes can happen to parse as the start of a frame; such a peer is
  // dropped when the frame stays incomplete for 2 s (before the rogue gives up at 5 s).
  const parent = start(t, dir, parentConfig(dir, { mode: 'listen', uri: `unix://${path}`, extra: { max_frame_size: '256KiB', connect_timeout: '2s' } }));
  await parent.waitForLine(/listening on/, { stream: 'stderr' });
  const enclave = start(t, dir, enclaveConfig(dir, { mode: 'connect', uri: `unix://${path}`, extra: { max_frame_size: '128KiB' } }));
  await waitForCount(dir, 1000, 30_000, [enclave, parent]);
  // A frame whose header announces 100 MB: dropped from the header, nothing buffered.
  const oversized = Buffer.concat([Buffer.from([0x93, 0xa3, 0x61, 0x70, 0x70, 0xc6, 0x05, 0xf5, 0xe1, 0x00]), randomBytes(1000)]);
  await Promise.all([rogue(path, randomBytes(8192)), rogue(path, oversized), rogue(path, Buffer.from('GET / HTTP/1.1\r\n\r\n'))]);
  writeLines(dir, N / 2 + 1, N);
  await waitForCount(dir, N, 60_000, [enclave, parent]);
  await waitFor(() => messages(parent).filter((m) => /dropped peer/.test(m)).length >= 3, { what: 'three drops logged' });
  await new Promise((r) => setTimeout(r, 200)); // nothing more (a duplicate) may arrive before the stop
  // Checked before stopping: a stopping parent closes its connections, which the enclave logs.
  const lost = messages(enclave).filter((m) => /connection to .* lost/.test(m));
  await stop(enclave, parent);
  const drops = messages(parent).filter((m) => /dropped peer/.test(m));
  assert.ok(
    drops.some((m) => /max_frame_size \(262144 bytes\)/.test(m)),
    drops.join('\n'),
  );
  assertDelivered(dir, N);
  assert.deepEqual(lost, [], 'the enclave connection was never touched');
});

test('a wrong shared_key: the parent drops the enclave with the reason; nothing is delivered', async (t) => {
  const dir = tempDir(t, 'qlog-link-');
  resetSource(dir);
  writeLines(dir, 1, 100);
  const uri = `unix://${join(dir, 'link.sock')}`;
  const enclave = start(t, dir, enclaveConfig(dir, { mode: 'listen', uri, extra: { shared_key: 'enclave-key' } }));
  const parent = start(t, dir, parentConfig(dir, { mode: 'connect', uri, extra: { shared_key: 'parent-key' } }));
  await parent.waitForLine(/dropped peer .*shared_key mismatch/, { stream: 'stderr', timeoutMs: 15_000 });
  await enclave.waitForLine(/refused authentication: shared_key mismatch/, { stream: 'stderr', timeoutMs: 15_000 });
  await stop(enclave, parent);
  assert.equal(outLines(dir).length, 0);
});
