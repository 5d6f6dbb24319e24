// Connect-with-timeout and accept, through the addon on AF_UNIX socket files (the vsock
// connect path shares this code; connect() on AF_VSOCK is never called in tests).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { _testing, connectUnixPath, type NativeSocketHandle, QlogVsockError, VsockServer, VsockSocket } from '../../core/transport/vsock-native.js';
import { addonSkipReason, closed, collect } from './helpers.js';

const skip = addonSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'qlog-native-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('server accepts, client connects, both talk', { skip }, async () => {
  const path = join(dir, 'echo.sock');
  const server = new VsockServer();
  await server.listenUnixPath(path);
  assert.throws(() => server.address(), /not on vsock/);
  const accepted: VsockSocket[] = [];
  server.on('connection', (sock: VsockSocket) => {
    accepted.push(sock);
    sock.pipe(sock); // echo, half-close follows the client's end()
  });
  const clients = await Promise.all([1, 2, 3].map(() => connectUnixPath(path, { timeoutMs: 2000 })));
  const replies = await Promise.all(
    clients.map((c, i) => {
      const reply = collect(c);
      c.end(`client ${i}`);
      return reply;
    }),
  );
  assert.deepEqual(replies.map(String), ['client 0', 'client 1', 'client 2']);
  assert.equal(accepted.length, 3);
  await server.close();
  await Promise.all([...clients, ...accepted].map(closed));
});

test('nothing listening on the path: REFUSED', { skip }, async () => {
  const path = join(dir, 'stale.sock');
  const server = new VsockServer();
  await server.listenUnixPath(path);
  await server.close(); // the socket file stays, nobody listens
  await assert.rejects(connectUnixPath(path), (err: unknown) => {
    assert.ok(err instanceof QlogVsockError);
    assert.equal(err.code, 'QLOG_ERR_VSOCK_REFUSED');
    assert.equal(err.errno, 'ECONNREFUSED');
    assert.match(err.message, /refused/);
    return true;
  });
});

test('listening twice on one path: ADDR_IN_USE', { skip }, async () => {
  const path = join(dir, 'twice.sock');
  const a = new VsockServer();
  await a.listenUnixPath(path);
  await assert.rejects(new VsockServer().listenUnixPath(path), { code: 'QLOG_ERR_VSOCK_ADDR_IN_USE' });
  await a.close();
});

/** Two raw addon handles, not yet wrapped in a VsockSocket. */
function rawPair(): [NativeSocketHandle, NativeSocketHandle] {
  const r = _testing.binding().socketPair();
  assert.ok(Array.isArray(r));
  return r;
}

test('a connect that never completes times out, and the socket is closed', { skip }, async () => {
  // A socket whose send buffer is full never becomes writable: the same state as a vsock
  // connect that the peer never answers.
  const [h, peer] = rawPair();
  const chunk = Buffer.alloc(64 * 1024);
  while (h.write(chunk, 0) > 0);
  const started = Date.now();
  await assert.rejects(_testing.awaitConnect(h, 'vsock://9:9', 150), {
    code: 'QLOG_ERR_VSOCK_TIMEOUT',
    message: 'connection to vsock://9:9 timed out after 150 ms',
  });
  assert.ok(Date.now() - started >= 140);
  assert.equal(h.fd(), -1, 'the fd was closed');
  peer.close();
});

test('a connect that fails reports SO_ERROR, and the socket is closed', { skip }, async () => {
  const [h, peer] = rawPair();
  assert.ok(h.write(Buffer.from('unread'), 0) > 0);
  peer.close(); // closing with unread data leaves ECONNRESET pending on h
  await assert.rejects(_testing.awaitConnect(h, 'vsock://9:9', 1000), {
    code: 'QLOG_ERR_VSOCK_RESET',
    errno: 'ECONNRESET',
    syscall: 'connect',
  });
  assert.equal(h.fd(), -1);
});

test('a connect that succeeds yields a working VsockSocket', { skip }, async () => {
  const [h, peer] = rawPair();
  const sock = await _testing.awaitConnect(h, 'unix socketpair', 1000);
  assert.ok(sock instanceof VsockSocket);
  const other = new VsockSocket(peer);
  const got = collect(other);
  sock.end('hi');
  assert.equal((await got).toString(), 'hi');
  other.end();
  sock.resume();
  await Promise.all([closed(sock), closed(other)]);
});
