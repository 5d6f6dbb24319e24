// AF_VSOCK without connect(): local CID, bind/listen/address, EADDRINUSE, close.
// (No connect on AF_VSOCK here: there is no vsock loopback and every CID reaches the hypervisor.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localCid, QlogVsockError, VMADDR_CID_ANY, VMADDR_PORT_ANY, vsockAvailable, VsockServer } from '../../core/transport/vsock-native.js';
import { randomPort, vsockSkipReason } from './helpers.js';

const skip = vsockSkipReason();

test('vsockAvailable() and localCid()', { skip }, () => {
  assert.deepEqual(vsockAvailable(), { ok: true });
  const cid = localCid();
  // 0-2 are reserved (hypervisor, local, host); this machine reports 3.
  assert.ok(Number.isInteger(cid) && cid >= 3 && cid < VMADDR_CID_ANY, `local CID ${cid}`);
  assert.equal(localCid(), cid);
});

test('listen on any CID, address(), close', { skip }, async () => {
  const server = new VsockServer();
  const port = randomPort();
  await server.listen({ cid: VMADDR_CID_ANY, port });
  assert.equal(server.listening, true);
  assert.deepEqual(server.address(), { cid: VMADDR_CID_ANY, port });
  await server.close();
  assert.equal(server.listening, false);
  await server.close(); // idempotent
  assert.throws(() => server.address(), { code: 'QLOG_ERR_VSOCK_IO' });
});

test('listen on the local CID', { skip }, async () => {
  const server = new VsockServer();
  const port = randomPort();
  await server.listen({ cid: localCid(), port });
  assert.deepEqual(server.address(), { cid: localCid(), port });
  await server.close();
});

test('VMADDR_PORT_ANY gets a real port', { skip }, async () => {
  const server = new VsockServer();
  await server.listen({ cid: VMADDR_CID_ANY, port: VMADDR_PORT_ANY });
  const { port } = server.address();
  assert.ok(port > 0 && port < VMADDR_PORT_ANY, `port ${port}`);
  await server.close();
});

test('listening twice on one port gives ADDR_IN_USE; the port is free again after close', { skip }, async () => {
  const port = randomPort();
  const first = new VsockServer();
  await first.listen({ cid: VMADDR_CID_ANY, port });
  const second = new VsockServer();
  await assert.rejects(second.listen({ cid: VMADDR_CID_ANY, port }), (err: unknown) => {
    assert.ok(err instanceof QlogVsockError);
    assert.equal(err.code, 'QLOG_ERR_VSOCK_ADDR_IN_USE');
    assert.equal(err.errno, 'EADDRINUSE');
    assert.match(err.message, new RegExp(`vsock://any:${port}.*already in use`));
    return true;
  });
  assert.equal(second.listening, false);
  await first.close();
  await second.listen({ cid: VMADDR_CID_ANY, port });
  await second.close();
});

test('the same server cannot listen twice', { skip }, async () => {
  const server = new VsockServer();
  await server.listen({ cid: VMADDR_CID_ANY, port: randomPort() });
  await assert.rejects(server.listen({ cid: VMADDR_CID_ANY, port: randomPort() }), { code: 'QLOG_ERR_VSOCK_IO', message: /already listening/ });
  await server.close();
});

test('binding a CID that is not ours is a clear error', { skip }, async () => {
  const server = new VsockServer();
  await assert.rejects(server.listen({ cid: 2, port: randomPort() }), { code: 'QLOG_ERR_VSOCK_IO', errno: 'EADDRNOTAVAIL', message: /not this machine's/ });
});

test('invalid addresses are rejected before any syscall', async () => {
  const server = new VsockServer();
  await assert.rejects(server.listen({ cid: -1, port: 1 }), TypeError);
  await assert.rejects(server.listen({ cid: 3, port: 1.5 }), /port must be an integer/);
});
