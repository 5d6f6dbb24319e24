import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect, listen, hybridListenPath, parseAddress, TransportError, type HybridAddr } from '../../../core/transport/index.js';
import { startHybridMux } from '../../helpers/proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'qlog-hybrid-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function readAll(s: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => resolve(Buffer.concat(parts).toString()));
    s.on('error', reject);
  });
}

test('connect: CONNECT <port> / OK <n>, then a plain stream (bytes right after OK are kept)', async () => {
  const vsock = join(dir, 'v.sock');
  const guestPath = (port: number) => join(dir, `guest_${port}.sock`);
  // The "guest" greets immediately, so its bytes may arrive in the same read as "OK n\n".
  const guest = await listen(`unix://${guestPath(6000)}`, (s) => {
    s.write('greeting;');
    s.on('data', (d: Buffer) => s.end(`echo:${d}`));
  });
  const mux = await startHybridMux(vsock, (port) => ({ path: guestPath(port) }));
  const s = await connect(`vsock+unix://${vsock}:6000`, { timeoutMs: 2000 });
  const got = readAll(s);
  s.write('ping');
  assert.equal(await got, 'greeting;echo:ping');
  // A port nobody listens on in the guest: the VMM closes the connection.
  await assert.rejects(
    connect(`vsock+unix://${vsock}:7000`, { timeoutMs: 2000 }),
    (e: unknown) => e instanceof TransportError && e.code === 'QLOG_ERR_TRANSPORT_REFUSED',
  );
  await mux.close();
  await guest.close();
});

test('connect: a VMM reply that is not OK is an error', async () => {
  const path = join(dir, 'bad.sock');
  const l = await listen(`unix://${path}`, (s) => s.once('data', () => s.write('FAILED nope\n')));
  await assert.rejects(connect(`vsock+unix://${path}:1`, { timeoutMs: 2000 }), /expected "OK <port>".*FAILED nope/);
  await l.close();
});

test('listen: binds <path>_<port>, where the VMM delivers guest-initiated connections', async () => {
  const addr = parseAddress(`vsock+unix://${join(dir, 'h.sock')}:5000`) as HybridAddr;
  const path = hybridListenPath(addr);
  assert.equal(path, join(dir, 'h.sock_5000'));
  let label = '';
  const l = await listen(addr, (s, peer) => {
    label = peer.label;
    s.on('data', (d: Buffer) => s.end(d.toString().toUpperCase()));
  });
  const c = await connect(`unix://${path}`);
  const got = readAll(c);
  c.write('x');
  assert.equal(await got, 'X');
  assert.equal(label, `vsock+unix:${join(dir, 'h.sock')}:5000#1`);
  await l.close();
});

test('connect: a VMM that never answers CONNECT times out', async () => {
  const path = join(dir, 'mute.sock');
  const l = await listen(`unix://${path}`, () => {});
  const t0 = Date.now();
  await assert.rejects(
    connect(`vsock+unix://${path}:1`, { timeoutMs: 300 }),
    (e: unknown) => e instanceof TransportError && e.code === 'QLOG_ERR_TRANSPORT_TIMEOUT',
  );
  assert.ok(Date.now() - t0 < 2000);
  await l.close();
});
