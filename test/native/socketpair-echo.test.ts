// The Duplex I/O path on an AF_UNIX socketpair made by the addon (same code as vsock).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { unixSocketPair, VsockSocket } from '../../core/transport/vsock-native.js';
import { addonSkipReason, collect, closed } from './helpers.js';

const skip = addonSkipReason();

test('echo round-trip', { skip }, async () => {
  const [client, server] = unixSocketPair();
  assert.ok(client instanceof VsockSocket);
  assert.equal(client.remote, undefined); // AF_UNIX: no vsock address
  assert.equal(client.local, undefined);
  server.on('data', (d: Buffer) => server.write(d));
  const got: Buffer[] = [];
  client.on('data', (d: Buffer) => got.push(d));
  for (const msg of ['hello', ' ', 'vsock', '\n']) client.write(msg);
  while (Buffer.concat(got).toString() !== 'hello vsock\n') await once(client, 'data');
  client.destroy();
  server.destroy();
  await Promise.all([closed(client), closed(server)]);
});

test('many small corked writes go out through writev (more than IOV_MAX chunks)', { skip }, async () => {
  const [a, b] = unixSocketPair();
  const received = collect(b);
  const parts: Buffer[] = [];
  a.cork();
  for (let i = 0; i < 5000; i++) {
    const p = Buffer.from(`line ${i}\n`);
    parts.push(p);
    a.write(p);
  }
  a.uncork();
  a.end();
  assert.deepEqual(await received, Buffer.concat(parts));
});

test('write callbacks fire in order and an empty write is fine', { skip }, async () => {
  const [a, b] = unixSocketPair();
  const order: number[] = [];
  a.write(Buffer.alloc(0), () => order.push(0));
  a.write('x', () => order.push(1));
  await new Promise<void>((resolve) =>
    a.write('y', () => {
      order.push(2);
      resolve();
    }),
  );
  assert.deepEqual(order, [0, 1, 2]);
  a.end();
  assert.equal((await collect(b)).toString(), 'xy');
});
