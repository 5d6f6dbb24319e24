// Peers: allowed_cids (unit level: a fake vsock peer identity on a unix stream), rogue peers,
// wrong shared key, max_connections; other peers keep working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createHarness } from '../../../core/testing/index.js';
import type { InputContext, LogRecord } from '../../../core/index.js';
import vsock from '../../../plugins/vsock/index.js';
import { VsockReceiver } from '../../../plugins/vsock/vsock-receiver.js';
import { packr } from '../../../core/forward/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { sender } from './client.js';

function fakeCtx(allowed: number[], emitted: { tag: string; records: LogRecord[] }[]) {
  const counts: Record<string, number> = {};
  const ctx = {
    id: 'vsock.test',
    name: 'vsock',
    tag: 'vsock.0',
    options: {
      listen: 'vsock://any:6000',
      connect: '',
      shared_key: '',
      self_hostname: 'parent',
      allowed_cids: allowed,
      max_frame_size: 1 << 20,
      max_connections: 8,
      tag_prefix: '',
      dedupe_window: 100,
      peer_buffer_limit: 1 << 20,
      peer_metrics_retention: 60_000,
      connect_timeout: 1000,
      reconnect_base: 100,
      reconnect_max: 1000,
      unseal: { identity_file: '', verify_key_files: [] },
    },
    log: pino({ level: 'silent' }),
    counters: {
      add: (k: string, n = 1) => void (counts[k] = (counts[k] ?? 0) + n),
      set: (k: string, v: number) => void (counts[k] = v),
      get: (k: string) => counts[k] ?? 0,
      snapshot: () => ({ ...counts }),
      addSeries: () => undefined,
    },
    service: { hostname: 'parent' },
    emit: (tag: string, records: LogRecord[], o?: { onSettled?: (s: { delivered: boolean }) => void }) => {
      emitted.push({ tag, records });
      o?.onSettled?.({ delivered: true });
      return true;
    },
  } as unknown as InputContext<never>;
  return { ctx, counts };
}

async function streamPair(dir: string): Promise<[net.Socket, net.Socket]> {
  const path = join(dir, `p${Math.random().toString(36).slice(2)}.sock`);
  return new Promise((resolve) => {
    let b: net.Socket;
    const srv = net.createServer((a) => {
      srv.close();
      resolve([a, b]);
    });
    srv.listen(path, () => (b = net.connect(path)));
  });
}

test('allowed_cids: a vsock peer outside the list is refused on accept, one inside gets meta.cid', async (t) => {
  const dir = tempDir(t);
  const emitted: { tag: string; records: LogRecord[] }[] = [];
  const { ctx, counts } = fakeCtx([16, 17], emitted);
  const r = new VsockReceiver(ctx as never);
  const [a, b] = await streamPair(dir);
  const closed = new Promise((res) => b.on('close', res));
  b.resume();
  await r.accept(a, { transport: 'vsock', cid: 5, port: 1234, label: 'vsock:5:1234' });
  await closed;
  assert.equal(counts.connections_refused, 1);
  assert.equal(r.connections, 0);

  const [c, d] = await streamPair(dir);
  const done = r.accept(c, { transport: 'vsock', cid: 16, port: 1234, label: 'vsock:16:1234' });
  assert.equal(r.connections, 1);
  const acks: unknown[] = [];
  d.on('data', (x: Buffer) => acks.push(x));
  d.write(packr.pack(['app', 1, { log: 'hi', _qlog: { src: 's', seq: 1 } }, { chunk: 'k1' }]));
  await waitFor(() => emitted.length === 1 && acks.length === 1, { what: 'record and ack' });
  assert.equal(emitted[0]!.records[0]!.meta.cid, 16);
  assert.equal(emitted[0]!.records[0]!.meta.src, 'cid16/s', 'src is namespaced by the CID');
  assert.equal(emitted[0]!.records[0]!.meta.peer, undefined);
  d.destroy();
  await done;
});

test('a rogue peer (random bytes, oversized frame, wrong key) is dropped; a good peer is unaffected', async (t) => {
  const dir = tempDir(t);
  const uri = `unix://${join(dir, 'in.sock')}`;
  // connect_timeout 2s: random bytes can read as the start of a frame that never completes
  // (say a str16 longer than the bytes sent); such a peer is dropped by the stall watchdog after
  // connect_timeout, which must come well within the waits below.
  const h = await createHarness(vsock, { options: { listen: uri, max_frame_size: '64KiB', shared_key: 'k', connect_timeout: '2s' } });
  t.after(() => void h.stop({ grace: 200 }));
  const good = await sender(uri, { sharedKey: 'k' });
  good.send('g1', ['good 1']);
  await h.collect({ count: 1 });

  // Random bytes before the handshake; then data without the handshake.
  for (const bytes of [randomBytes(4096), packr.pack(['app', 1, { log: 'sneaky' }])]) {
    const r = net.connect(join(dir, 'in.sock'));
    r.on('error', () => {});
    r.resume();
    r.write(bytes);
  }
  // A wrong key.
  await assert.rejects(sender(uri, { sharedKey: 'nope' }), /shared_key mismatch/);
  // A right key, then an oversized frame.
  const big = await sender(uri, { sharedKey: 'k' });
  big.send('b1', ['x'.repeat(100_000)]);
  await waitFor(() => big.closed.length === 1, { what: 'oversized peer dropped' });
  // Right key, then garbage.
  const junk = await sender(uri, { sharedKey: 'k' });
  junk.session.stream.write(randomBytes(2048));
  await waitFor(() => junk.closed.length === 1, { what: 'garbage peer dropped' });

  good.send('g2', ['good 2']);
  const got = await h.collect({ count: 1 });
  assert.equal(got[0]!.body, 'good 2');
  await waitFor(() => good.acks.length === 2, { what: 'acks of the good peer' });
  await waitFor(() => (h.counters.peers_dropped ?? 0) >= 5, { what: 'five drops' });
  const reasons = h.logs.filter((l) => /dropped peer/.test(String(l.msg))).map((l) => String(l.msg));
  assert.ok(
    reasons.some((m) => /shared_key mismatch/.test(m)),
    reasons.join('\n'),
  );
  assert.ok(
    reasons.some((m) => /max_frame_size \(65536 bytes\)/.test(m)),
    reasons.join('\n'),
  );
  assert.ok(
    reasons.some((m) => /expected PING/.test(m)),
    reasons.join('\n'),
  );
  assert.equal(h.received.length, 2);
  good.close();
});

test('max_connections: extra connections are refused', async (t) => {
  const dir = tempDir(t);
  const uri = `unix://${join(dir, 'in.sock')}`;
  const h = await createHarness(vsock, { options: { listen: uri, max_connections: 1 } });
  t.after(() => void h.stop({ grace: 200 }));
  const a = await sender(uri);
  const b = await sender(uri);
  await waitFor(() => b.closed.length === 1, { what: 'second refused' });
  assert.equal(h.counters.connections_refused, 1);
  a.send('c', ['still works']);
  await h.collect({ count: 1 });
  a.close();
});
