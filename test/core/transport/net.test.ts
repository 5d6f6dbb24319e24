import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect, listen, TransportError, type PeerIdentity } from '../../../core/transport/index.js';
import { waitFor } from '../../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'qlog-transport-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function readAll(s: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

/** Listen with an echo-ish server that sends back what it got, upper-cased, and records peers. */
async function echoServer(uri: string) {
  const peers: PeerIdentity[] = [];
  const l = await listen(uri, (s, peer) => {
    peers.push(peer);
    s.on('data', (d: Buffer) => s.write(d.toString().toUpperCase()));
    s.on('end', () => s.end());
  });
  return { l, peers };
}

async function roundTrip(connectUri: string) {
  const s = await connect(connectUri, { timeoutMs: 2000 });
  const got = readAll(s);
  s.end('hello');
  return (await got).toString();
}

test('unix: connect and listen, peer labels count connections', async () => {
  const path = join(dir, 'a.sock');
  const { l, peers } = await echoServer(`unix://${path}`);
  assert.equal(await roundTrip(`unix://${path}`), 'HELLO');
  assert.equal(await roundTrip(`unix://${path}`), 'HELLO');
  assert.deepEqual(
    peers.map((p) => p.label),
    [`unix:${path}#1`, `unix:${path}#2`],
  );
  await l.close();
  assert.equal(existsSync(path), false);
});

test('tcp: IPv4 and IPv6, port 0 reports the bound port', async () => {
  for (const host of ['127.0.0.1', '[::1]']) {
    const { l, peers } = await echoServer(`tcp://${host}:0`);
    assert.match(l.uri, /:\d+$/);
    assert.notEqual(l.uri.endsWith(':0'), true);
    assert.equal(await roundTrip(l.uri), 'HELLO');
    assert.equal(peers[0]!.transport, 'tcp');
    assert.match(peers[0]!.label, /^tcp:(127\.0\.0\.1|\[::1\]):\d+$/);
    await l.close();
  }
});

test('a stale unix socket file is removed before listening', async () => {
  const path = join(dir, 'stale.sock');
  // A process that dies while listening leaves its socket file behind.
  const r = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`]);
  assert.equal(r.status, 0);
  assert.ok(existsSync(path), 'a dead socket file exists');
  const { l } = await echoServer(`unix://${path}`);
  assert.equal(await roundTrip(`unix://${path}`), 'HELLO');
  await l.close();
});

test('a live unix socket is not stolen, a regular file is not deleted', async () => {
  const path = join(dir, 'live.sock');
  const { l } = await echoServer(`unix://${path}`);
  await assert.rejects(
    listen(`unix://${path}`, () => {}),
    (e: unknown) => e instanceof TransportError && e.code === 'QLOG_ERR_TRANSPORT_IN_USE' && /another process is listening/.test(e.message),
  );
  assert.equal(await roundTrip(`unix://${path}`), 'HELLO');
  await l.close();
  const file = join(dir, 'regular');
  writeFileSync(file, 'keep me');
  await assert.rejects(
    listen(`unix://${file}`, () => {}),
    /exists and is not a socket/,
  );
  assert.ok(existsSync(file));
});

test('connect errors are clear', async () => {
  await assert.rejects(
    connect(`unix://${join(dir, 'nobody.sock')}`),
    (e: unknown) => e instanceof TransportError && e.code === 'QLOG_ERR_TRANSPORT_REFUSED' && /does not exist/.test(e.message),
  );
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  await assert.rejects(connect(`tcp://127.0.0.1:${port}`), (e: unknown) => e instanceof TransportError && e.code === 'QLOG_ERR_TRANSPORT_REFUSED');
});

test('listener.close() drops open connections and frees the address', async () => {
  const path = join(dir, 'close.sock');
  let serverSide: Duplex | undefined;
  const l = await listen(`unix://${path}`, (s) => (serverSide = s));
  const c = await connect(`unix://${path}`);
  const closed = new Promise((r) => c.on('close', r));
  c.on('error', () => {});
  c.resume();
  await waitFor(() => serverSide, { what: 'the server side of the connection' });
  await l.close();
  await closed;
  const l2 = await listen(`unix://${path}`, () => {});
  await l2.close();
});

test('widenSendBuffer: a unix socket buffers what was asked (capped by net.core.wmem_max); other streams are left alone', async () => {
  const { readFileSync } = await import('node:fs');
  const { PassThrough } = await import('node:stream');
  const { widenSendBuffer } = await import('../../../core/transport/index.js');
  const wmemMax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
  const held: Duplex[] = [];
  // A receiver that never reads: what a write leaves queued in node is what the kernel did not take.
  const l = await listen(`unix://${join(dir, 'sndbuf.sock')}`, (s) => void held.push(s));
  /** Bytes the kernel takes from one big write before the socket is full (optionally widened first). */
  const accepted = async (bytes?: number): Promise<{ took: number; got: number | undefined }> => {
    const s = (await connect(`unix://${join(dir, 'sndbuf.sock')}`, { timeoutMs: 2000 })) as net.Socket;
    const got = bytes ? widenSendBuffer(s, bytes) : undefined;
    const size = 8 << 20;
    s.write(Buffer.alloc(size));
    await new Promise((r) => setTimeout(r, 50));
    // libuv's queue: the bytes of the write that the kernel has not taken yet.
    const took = size - (s as net.Socket & { _handle: { writeQueueSize: number } })._handle.writeQueueSize;
    s.destroy();
    return { took, got };
  };
  try {
    const plain = await accepted();
    const wide = await accepted(1 << 20);
    // Linux doubles the request, capped at wmem_max (then doubled too).
    assert.equal(wide.got, 2 * Math.min(1 << 20, wmemMax));
    assert.ok(plain.took > 0 && plain.took < 8 << 20, `kernel took ${plain.took} bytes by default`);
    if (wide.got! >= 4 * 212_992) assert.ok(wide.took > 2 * plain.took, `kernel took ${wide.took} bytes widened, ${plain.took} by default`);
    assert.equal(widenSendBuffer(new PassThrough(), 1 << 20), undefined);
  } finally {
    for (const s of held) s.destroy();
    await l.close();
  }
});
