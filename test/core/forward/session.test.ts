import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { encodeHeartbeat, packr } from '../../../core/forward/codec.js';
import { ReceiverSession } from '../../../core/forward/receiver.js';
import { SenderSession } from '../../../core/forward/sender.js';
import { frame, link, pair } from './session-pair.js';

test('frames in, acks out, without a handshake', async (t) => {
  const e = await link(t);
  await e.sender.ready;
  e.sender.send(frame('c1'), 'c1');
  e.sender.send(frame('c2', 1000), 'c2');
  await waitFor(() => e.acks.length === 2, { what: 'two acks' });
  assert.deepEqual(e.acks, ['c1', 'c2']);
  assert.equal(e.events[1]!.records.length, 1000);
  assert.equal(e.sender.unacked, 0);
});

test('shared_key handshake: matching keys authenticate both ways', async (t) => {
  const e = await link(t, { sharedKey: 'k' }, { sharedKey: 'k' });
  await e.sender.ready;
  assert.equal(e.sender.serverHostname, 'parent');
  assert.equal(e.receiver.clientHostname, 'enclave');
  e.sender.send(frame('c1'), 'c1');
  await waitFor(() => e.acks.length === 1, { what: 'ack' });
});

test('shared_key mismatch: the receiver drops the peer and says why in PONG', async (t) => {
  const e = await link(t, { sharedKey: 'right' }, { sharedKey: 'wrong' });
  await assert.rejects(e.sender.ready, /refused authentication: shared_key mismatch/);
  await waitFor(() => e.recvClosed.length === 1, { what: 'receiver close' });
  assert.equal(e.recvClosed[0]!.dropped, true);
  assert.match(e.recvClosed[0]!.reason!, /^shared_key mismatch: the PING from "enclave" was made with another shared_key/);
  assert.equal(e.events.length, 0);
});

test('a receiver that requires a key drops a sender without one', async (t) => {
  const e = await link(t, { sharedKey: 'k' }, {});
  await e.sender.ready; // no key: the sender does not wait for HELO
  e.sender.send(frame('c1'), 'c1');
  await waitFor(() => e.recvClosed.length === 1 && e.sendClosed.length === 1, { what: 'both closed' });
  assert.equal(e.recvClosed[0]!.dropped, true);
  assert.match(e.recvClosed[0]!.reason!, /expected PING/);
  assert.match(e.sendClosed[0]!, /requires the shared_key handshake \(it sent HELO\): set shared_key/);
  assert.equal(e.events.length, 0);
});

test('a sender with a key and a receiver without one: the handshake times out with a hint', async (t) => {
  const e = await link(t, {}, { sharedKey: 'k', handshakeTimeoutMs: 200 });
  await assert.rejects(e.sender.ready, /no HELO .*is shared_key set on the receiving side/);
});

test('an oversized frame drops the peer with a reason', async (t) => {
  const e = await link(t, { maxFrameSize: 1024 });
  await e.sender.ready;
  e.sender.send(frame('big', 500), 'big');
  await waitFor(() => e.recvClosed.length === 1, { what: 'drop' });
  assert.equal(e.recvClosed[0]!.dropped, true);
  assert.match(e.recvClosed[0]!.reason!, /max_frame_size \(1024 bytes\)/);
  assert.equal(e.events.length, 0);
});

test('garbage drops the peer', async (t) => {
  const e = await link(t);
  (e.sender.stream as Duplex).write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await waitFor(() => e.recvClosed.length === 1, { what: 'drop' });
  assert.equal(e.recvClosed[0]!.dropped, true);
  assert.match(e.recvClosed[0]!.reason!, /expected an event message|not valid msgpack|invalid msgpack/);
});

test('heartbeats are acked by the receiver and never reach onEvents', async (t) => {
  const e = await link(t, {}, { heartbeatMs: 50 });
  await e.sender.ready;
  await new Promise((r) => setTimeout(r, 300)); // the point: a few heartbeat intervals go by
  assert.equal(e.events.length, 0);
  assert.equal(e.sendClosed.length, 0);
  assert.equal(e.recvClosed.length, 0);
  assert.equal(e.sender.unacked <= 1, true);
});

test('a peer that heartbeated and then went silent is dropped after 3 intervals', async (t) => {
  const dir = tempDir(t);
  const [a, b] = await pair(dir, 'hb.sock');
  t.after(() => {
    a.destroy();
    b.destroy();
  });
  const closed: { reason?: string; dropped: boolean }[] = [];
  new ReceiverSession(
    a,
    { transport: 'unix', label: 'x' },
    { selfHostname: 'p', maxFrameSize: 1 << 20, minSilenceMs: 500, onEvents: () => {}, onClose: (_s, reason, dropped) => closed.push({ reason, dropped }) },
  );
  b.write(encodeHeartbeat('h', 200));
  b.resume();
  const t0 = Date.now();
  await waitFor(() => closed.length === 1, { what: 'watchdog', timeoutMs: 5000 });
  assert.ok(Date.now() - t0 >= 550, 'not before 3 intervals');
  assert.match(closed[0]!.reason!, /no data or heartbeat for 600 ms \(peer heartbeats every 200 ms\)/);
});

test('a paused receiver does not time out a silent peer', async (t) => {
  const dir = tempDir(t);
  const [a, b] = await pair(dir, 'hbp.sock');
  t.after(() => {
    a.destroy();
    b.destroy();
  });
  const closed: unknown[] = [];
  const r = new ReceiverSession(
    a,
    { transport: 'unix', label: 'x' },
    { selfHostname: 'p', maxFrameSize: 1 << 20, minSilenceMs: 300, onEvents: () => {}, onClose: () => closed.push(1) },
  );
  // The receiver acks the heartbeat once it has armed its watchdog (300 ms for a 100 ms peer).
  const acked = once(b, 'data');
  b.write(encodeHeartbeat('h', 100));
  b.resume();
  await acked;
  r.pause();
  await new Promise((res) => setTimeout(res, 1500)); // the point: five times the watchdog's limit goes by
  assert.equal(closed.length, 0);
  r.close('test over');
});

test('a receiver that never acks: the sender drops the connection after ack_timeout', async (t) => {
  const e = await link(t, {}, { ackTimeoutMs: 300 }, false);
  await e.sender.ready;
  e.sender.send(frame('c1'), 'c1');
  await waitFor(() => e.sendClosed.length === 1, { what: 'ack timeout', timeoutMs: 3000 });
  assert.match(e.sendClosed[0]!, /no ack for chunk c1 within 300 ms/);
});

test('an unexpected reply drops the connection on the sender side', async (t) => {
  const dir = tempDir(t);
  const [a, b] = await pair(dir, 'u.sock');
  t.after(() => {
    a.destroy();
    b.destroy();
  });
  const closed: (string | undefined)[] = [];
  new SenderSession(b, { selfHostname: 'e', heartbeatMs: 0, ackTimeoutMs: 1000, onAck: () => {}, onClose: (r) => closed.push(r) });
  a.write(packr.pack(['what', 1]));
  await waitFor(() => closed.length === 1, { what: 'close' });
  assert.match(closed[0]!, /unexpected frame/);
});
