import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHarness } from '../../../core/testing/index.js';
import vsockForward from '../../../plugins/vsock-forward/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { TestReceiver } from './receiver.js';

type Ctx = { after(f: () => void): void };

async function setup(t: Ctx, opts: Record<string, unknown> = {}, recv: ConstructorParameters<typeof TestReceiver>[0] = {}) {
  const dir = tempDir(t);
  const r = new TestReceiver(recv);
  const uri = await r.listen(`unix://${join(dir, 'parent.sock')}`);
  t.after(() => void r.close());
  const h = await createHarness(vsockForward, { options: { connect: uri, reconnect_base: '20ms', reconnect_max: '100ms', ...opts }, timeout: 10_000 });
  t.after(() => void h.stop({ grace: 100 }));
  return { h, r, dir };
}

test('an unknown option is rejected; connect/listen are checked', async () => {
  await assert.rejects(createHarness(vsockForward, { options: { connect: 'tcp://127.0.0.1:1', heartbeet: 1 } }), /unknown key "heartbeet"/);
  await assert.rejects(createHarness(vsockForward, { options: {} }), /found neither/);
  await assert.rejects(createHarness(vsockForward, { options: { connect: 'tcp://127.0.0.1:0' } }), /expected a port number \(1-65535\), found 0/);
  await assert.rejects(createHarness(vsockForward, { options: { listen: 'unix://rel.sock' } }), /absolute socket path/);
});

test('flush resolves only when the receiver acks the chunk (id = chunk id)', async (t) => {
  const { h, r } = await setup(t);
  const p = h.flush(['a', 'b']);
  await waitFor(() => r.frames.length === 1, { what: 'frame' });
  const f = r.frames[0]!;
  assert.equal(f.ev.mode, 'packed');
  assert.deepEqual(
    f.ev.records.map((x) => x.body),
    ['a', 'b'],
  );
  assert.equal(f.ev.chunk, h.attempts[0]!.chunk.id);
  let done = false;
  void p.then(() => (done = true));
  await new Promise((res) => setTimeout(res, 100)); // the point: the flush stays pending without an ack
  assert.equal(done, false);
  r.ackAll();
  assert.equal((await p).acked, true);
});

test('unacked chunks are resent with the same id after a reconnect', async (t) => {
  const { h, r } = await setup(t);
  const p = h.flush(['x']);
  await waitFor(() => r.frames.length === 1, { what: 'first send' });
  const id = r.frames[0]!.ev.chunk;
  r.cutAll();
  await waitFor(() => r.frames.length === 2, { what: 'resend' });
  assert.equal(r.frames[1]!.ev.chunk, id);
  r.ackAll();
  assert.equal((await p).acked, true);
  assert.equal(h.counters.resent_chunks, 1);
  assert.equal(h.attempts.length, 1, "the core saw one flush: the resend is the plugin's");
});

test('the window: no more than max_inflight_chunks unacknowledged, in flush order', async (t) => {
  const { h, r } = await setup(t, { max_inflight_chunks: 2, workers: 6 });
  const ps = ['t1', 't2', 't3', 't4', 't5'].map((tag) => h.flush([tag], { tag }));
  await waitFor(() => r.frames.length === 2, { what: 'two frames' });
  await new Promise((res) => setTimeout(res, 100)); // the point: no third frame while the window is full
  assert.equal(r.frames.length, 2);
  assert.equal(h.counters.inflight_chunks, 2);
  const seen: string[] = [];
  while (seen.length < 5) {
    await waitFor(() => r.frames.length > 0, { what: 'more frames' });
    for (const f of r.frames) seen.push(f.ev.tag);
    r.ackAll();
  }
  assert.deepEqual(seen, ['t1', 't2', 't3', 't4', 't5']);
  for (const p of ps) assert.equal((await p).acked, true);
});

test('max_inflight bytes: a full window holds the next chunk back', async (t) => {
  const { h, r } = await setup(t, { max_inflight: '1KiB', workers: 4 });
  const big = 'x'.repeat(800);
  const p1 = h.flush([big], { tag: 'a' });
  const p2 = h.flush([big], { tag: 'b' });
  await waitFor(() => r.frames.length === 1, { what: 'first' });
  await new Promise((res) => setTimeout(res, 100)); // the point: the second waits for room
  assert.equal(r.frames.length, 1, 'second waits for room');
  r.ackAll();
  await waitFor(() => r.frames.length === 1, { what: 'second' });
  r.ackAll();
  assert.equal((await p1).acked && (await p2).acked, true);
});

test('compress gzip sends CompressedPackedForward', async (t) => {
  const { h, r } = await setup(t, { compress: 'gzip' }, { autoAck: true });
  assert.equal((await h.flush(['z1', 'z2'])).acked, true);
  assert.equal(r.frames[0]!.ev.mode, 'compressed');
  assert.deepEqual(
    r.frames[0]!.ev.records.map((x) => x.body),
    ['z1', 'z2'],
  );
});

test('require_ack false: delivered once written, no chunk option', async (t) => {
  const { h, r } = await setup(t, { require_ack: false });
  assert.equal((await h.flush(['q'])).acked, true);
  await waitFor(() => r.frames.length === 1, { what: 'frame' });
  assert.equal(r.frames[0]!.ev.chunk, undefined);
});

test('shared_key: handshake with the receiver; a wrong key never delivers', async (t) => {
  const { h, r } = await setup(t, { shared_key: 'k1' }, { autoAck: true, sharedKey: 'k1' });
  assert.equal((await h.flush(['secret'])).acked, true);
  assert.equal(r.frames.length, 1);

  const bad = await setup(t, { shared_key: 'other' }, { autoAck: true, sharedKey: 'k1' });
  const p = bad.h.flush(['never']);
  p.catch(() => undefined); // never acknowledged: the harness gives up after its timeout
  await waitFor(() => bad.r.drops.length >= 2, { what: 'drops', timeoutMs: 5000 });
  assert.ok(
    bad.r.drops.every((d) => d.startsWith('shared_key mismatch: ')),
    bad.r.drops.join('\n'),
  );
  assert.equal(bad.r.frames.length, 0);
  assert.ok(bad.h.logs.some((l) => /refused authentication: shared_key mismatch/.test(String(l.msg))));
});

test('username/password: need shared_key; answer a receiver with users; a wrong password never delivers', async (t) => {
  await assert.rejects(
    createHarness(vsockForward, { options: { connect: 'tcp://127.0.0.1:1', username: 'bob' } }),
    /username and password travel in the shared_key handshake: set shared_key too/,
  );
  const users = [{ username: 'bob', password: 'builder' }];
  const { h, r } = await setup(t, { shared_key: 'k', username: 'bob', password: 'builder' }, { autoAck: true, sharedKey: 'k', users });
  assert.equal((await h.flush(['for bob'])).acked, true);
  assert.equal(r.frames.length, 1);

  const bad = await setup(t, { shared_key: 'k', username: 'bob', password: 'nope' }, { autoAck: true, sharedKey: 'k', users });
  bad.h.flush(['never']).catch(() => undefined);
  await waitFor(() => bad.r.drops.length >= 1, { what: 'drop', timeoutMs: 5000 });
  assert.match(bad.r.drops[0]!, /^username\/password mismatch: "[^"]+" sent a wrong password for user "bob"$/);
  await waitFor(() => bad.h.logs.some((l) => /refused authentication: username\/password mismatch \(user "bob"/.test(String(l.msg))), { what: 'sender log' });
  assert.equal(bad.r.frames.length, 0);
});

test('heartbeats keep an idle link checked; a receiver that stops acking is left and the chunk resent', async (t) => {
  const { h, r } = await setup(t, { heartbeat: '50ms', ack_timeout: '300ms' });
  await waitFor(() => r.open.length === 1, { what: 'connected' });
  await new Promise((res) => setTimeout(res, 200)); // the point: a few heartbeats go by (a timer-driven feature)
  assert.equal(r.frames.length, 0, 'heartbeats are not events');
  assert.equal(r.open.length, 1, 'heartbeats are acked by the receiver session');
  const p = h.flush(['late']);
  await waitFor(() => r.frames.length >= 2, { what: 'resend after ack timeout', timeoutMs: 5000 });
  assert.equal(r.frames[0]!.ev.chunk, r.frames[1]!.ev.chunk);
  assert.ok(h.logs.some((l) => /no ack for chunk .* within 300 ms/.test(String(l.msg))));
  r.ackAll();
  assert.equal((await p).acked, true);
});

test('listen mode: sends to whichever receiver connects; the newest connection wins', async (t) => {
  const dir = tempDir(t);
  const uri = `unix://${join(dir, 'enclave.sock')}`;
  const h = await createHarness(vsockForward, { options: { listen: uri }, timeout: 10_000 });
  t.after(() => void h.stop({ grace: 100 }));
  const r1 = new TestReceiver();
  const r2 = new TestReceiver({ autoAck: true });
  t.after(() => void r1.close());
  t.after(() => void r2.close());
  const p = h.flush(['first']);
  await waitFor(() => h.attempts.length === 1, { what: 'the flush, before any receiver is there' });
  await r1.connect(uri);
  await waitFor(() => r1.frames.length === 1, { what: 'sent to r1' });
  await r2.connect(uri);
  assert.equal((await p).acked, true, 'resent to r2 and acked there');
  assert.equal(r2.frames[0]!.ev.chunk, r1.frames[0]!.ev.chunk);
  await waitFor(() => r1.open.length === 0, { what: 'r1 dropped' });
});

test('a chunk bigger than max_frame_size goes as several frames (ids <id>.0, <id>.1 ...)', async (t) => {
  const { h, r } = await setup(t, { max_frame_size: '4KiB' }, { autoAck: true });
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'z'.repeat(60)}`);
  lines[100] = 'x'.repeat(10_000);
  assert.equal((await h.flush(lines)).acked, true);
  const id = h.attempts[0]!.chunk.id;
  assert.ok(r.frames.length >= 3);
  assert.deepEqual(
    r.ids,
    r.frames.map((_, i) => `${id}.${i}`),
  );
  assert.deepEqual(
    r.frames.flatMap((f) => f.ev.records.map((x) => x.body)),
    lines.filter((_, i) => i !== 100),
  );
  assert.equal(h.counters.records_too_large, 1);
});

test('stopping with unacknowledged chunks leaves them unsettled (tail re-reads them after a restart)', async (t) => {
  const dir = tempDir(t);
  const r = new TestReceiver();
  const uri = await r.listen(`unix://${join(dir, 'parent.sock')}`);
  t.after(() => void r.close());
  const h = await createHarness(vsockForward, { options: { connect: uri }, timeout: 2000 });
  let settled = false;
  const p = h.flush(['unacked']).then(() => (settled = true));
  p.catch(() => undefined);
  await waitFor(() => r.frames.length === 1, { what: 'sent' });
  await h.stop({ grace: 100 });
  await new Promise((res) => setTimeout(res, 300)); // the point: the stopped flush neither settles nor rejects
  assert.equal(settled, false);
  assert.equal(h.attempts[0]!.error, undefined, 'the flush did not reject either (a rejection would be dropped and settled)');
  assert.ok(h.logs.some((l) => /stopping with 1 chunks not acknowledged/.test(String(l.msg))));
});

test('with gzip and several workers, frames still leave in flush order', async (t) => {
  const { h, r } = await setup(t, { compress: 'gzip', workers: 8 }, { autoAck: true });
  const big = Array.from({ length: 30_000 }, (_, i) => `big ${i} ${Math.random()}`);
  const ps = [h.flush(big, { tag: 'first' }), h.flush(['tiny'], { tag: 'second' }), h.flush(['tiny too'], { tag: 'third' })];
  for (const p of ps) assert.equal((await p).acked, true);
  const tags = r.frames.map((f) => f.ev.tag);
  assert.deepEqual(
    tags.filter((x, i) => tags[i - 1] !== x),
    ['first', 'second', 'third'],
  );
});
