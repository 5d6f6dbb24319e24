// Per-peer series stay bounded: a peer's are dropped some time after its last connection closed,
// and only so many closed peers are kept; reconnects of a vsock peer add to the same series.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerTable, peerKey } from '../../../plugins/vsock/vsock-peer-stats.js';
import type { PeerIdentity } from '../../../core/transport/index.js';

const cid = (n: number): PeerIdentity => ({ transport: 'vsock', cid: n, port: 1000 + n, label: `vsock:${n}:${1000 + n}` });
const peers = (t: PeerTable, now: number) => [...new Set([...t.samples(now)].map((s) => s.labels.peer))];

test('peer keys: the CID, the IP, else the connection', () => {
  assert.equal(peerKey(cid(16)), 'cid:16');
  assert.equal(peerKey({ transport: 'tcp', address: '10.0.0.5', port: 4242, label: 'tcp:10.0.0.5:4242' }), 'tcp:10.0.0.5');
  assert.equal(peerKey({ transport: 'unix', address: '/run/q.sock', label: 'unix:/run/q.sock#3' }), 'unix:/run/q.sock#3');
  // tls: reconnects add to one series (the subject, else the address), not one per ephemeral port.
  assert.equal(peerKey({ transport: 'tls', address: '10.0.0.5', port: 41234, label: 'tls:10.0.0.5:41234', subject: 'CN=enclave-1' }), 'tls:CN=enclave-1');
  assert.equal(peerKey({ transport: 'tls', address: '10.0.0.5', port: 41234, label: 'tls:10.0.0.5:41234' }), 'tls:10.0.0.5');
});

test('a reconnecting peer keeps its series; a gone one is dropped after the retention', () => {
  const t = new PeerTable(60_000, 8);
  const a = t.open(cid(16));
  a.recordsIn += 10;
  t.close(a, 1000);
  const b = t.open(cid(16));
  assert.equal(b, a);
  b.recordsIn += 5;
  t.close(b, 2000);
  const s = [...t.samples(2000)].find((x) => x.name === 'peer_records_in');
  assert.deepEqual(s, { name: 'peer_records_in', labels: { peer: 'cid:16' }, value: 15 });
  assert.equal([...t.samples(2000)].find((x) => x.name === 'peer_connections')!.value, 2);
  assert.deepEqual(peers(t, 61_999), ['cid:16']);
  assert.deepEqual(peers(t, 62_000), []);
});

test('at most `cap` closed peers are kept, the longest closed dropped first; open ones always stay', () => {
  const t = new PeerTable(3_600_000, 2);
  const open = t.open(cid(3));
  for (let i = 10; i < 15; i++) t.close(t.open(cid(i)), i);
  assert.deepEqual(peers(t, 100).sort(), ['cid:13', 'cid:14', 'cid:3']);
  t.close(open, 200);
  assert.deepEqual(peers(t, 300).sort(), ['cid:14', 'cid:3']);
});

test('paused seconds add up over the connections of a peer, including a pause still going on', () => {
  const t = new PeerTable(60_000, 8);
  const p = t.open(cid(16));
  t.open(cid(16));
  p.paused(1, 0);
  p.paused(1, 1000);
  p.paused(-1, 2000);
  assert.equal(p.pausedSeconds(3000), 4); // 0-2 s: two pauses overlapping 1-2 s, then one to 3 s
  p.paused(-1, 3000);
  assert.equal(p.pausedSeconds(10_000), 4);
});
