// Half-close: end() shuts down our write side only; the peer sees 'end' and can still reply.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { unixSocketPair } from '../../core/transport/vsock-native.js';
import { addonSkipReason, collect, closed } from './helpers.js';

test('end() on one side gives "end" on the other, which can still write back', { skip: addonSkipReason() }, async () => {
  const [client, server] = unixSocketPair();
  client.end('request');
  await once(client, 'finish');
  assert.equal((await collect(server)).toString(), 'request'); // collect() returns at 'end'
  assert.equal(server.writable, true, 'the server can still write after the client half-closed');

  const reply = collect(client);
  server.write('reply ');
  server.end('done');
  assert.equal((await reply).toString(), 'reply done');
  // Both directions finished: both sides close by themselves (autoDestroy).
  await Promise.all([closed(client), closed(server)]);
  assert.equal(client.destroyed && server.destroyed, true);
});

test('allowHalfOpen: false ends our side as soon as the peer ends', { skip: addonSkipReason() }, async () => {
  const [a, b] = unixSocketPair({ allowHalfOpen: false });
  b.resume();
  a.resume();
  a.end();
  await Promise.all([closed(a), closed(b)]);
});
