// vsock-forward with several receivers (`upstream:`): routing by `balance`, the chunks a lost node
// had not acknowledged moved to another node with their ids, each flush settled once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHarness } from '../../../core/testing/index.js';
import vsockForward from '../../../plugins/vsock-forward/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { TestReceiver } from './receiver.js';

type Ctx = { after(f: () => void): void };

async function setup(t: Ctx, opts: Record<string, unknown> = {}) {
  const dir = tempDir(t);
  const rs = [new TestReceiver(), new TestReceiver(), new TestReceiver()];
  const uris = await Promise.all(rs.map((r, i) => r.listen(`unix://${join(dir, `node${i}.sock`)}`)));
  for (const r of rs) t.after(() => void r.close());
  const h = await createHarness(vsockForward, {
    options: { upstream: uris, reconnect_base: '20ms', reconnect_max: '100ms', workers: 4, ...opts },
    timeout: 10_000,
  });
  t.after(() => void h.stop({ grace: 100 }));
  await waitFor(() => h.counters.node0_up === 1 && h.counters.node1_up === 1 && h.counters.node2_up === 1, { what: 'three nodes up' });
  return { h, rs, uris };
}

const counts = (rs: TestReceiver[]): number[] => rs.map((r) => r.frames.length);

test('upstream is exclusive with connect/listen and each node is checked', async () => {
  await assert.rejects(
    createHarness(vsockForward, { options: { connect: 'tcp://127.0.0.1:1', upstream: ['tcp://127.0.0.1:2'] } }),
    /give either upstream or connect/,
  );
  await assert.rejects(
    createHarness(vsockForward, { options: { upstream: ['tcp://127.0.0.1:2', 'vsock://any:5'] } }),
    /node 1 \(vsock:\/\/any:5\): expected the peer's CID/,
  );
  await assert.rejects(createHarness(vsockForward, { options: { upstream: ['tcp://127.0.0.1:2', 'tcp://127.0.0.1:2'] } }), /distinct addresses/);
  await assert.rejects(createHarness(vsockForward, { options: { upstream: ['tcp://127.0.0.1:2'], balance: 'random' } }), /balance/);
});

test("failover: the first node gets everything; a lost node's unacknowledged chunks move to the next, same ids, settled once", async (t) => {
  const { h, rs } = await setup(t);
  const first = [h.flush(['a']), h.flush(['b'])];
  await waitFor(() => rs[0]!.frames.length === 2, { what: 'two frames on node 0' });
  assert.deepEqual(counts(rs), [2, 0, 0]);
  const ids = rs[0]!.ids;
  // Node 0 goes away (and stays away): its two chunks go to node 1, before anything newer.
  await rs[0]!.close();
  await waitFor(() => h.counters.node0_up === 0, { what: 'node 0 seen down' }); // else 'c' may go to node 0 and move too
  const later = h.flush(['c']);
  await waitFor(() => rs[1]!.frames.length === 3, { what: 'moved chunks and the next on node 1' });
  assert.deepEqual(rs[1]!.ids.slice(0, 2), ids, 'same ids, same order');
  assert.deepEqual(
    rs[1]!.frames.map((f) => f.ev.records[0]!.body),
    ['a', 'b', 'c'],
  );
  rs[1]!.ackAll();
  for (const s of await Promise.all([...first, later])) assert.equal(s.acked, true);
  assert.equal(rs[2]!.frames.length, 0);
  assert.equal(h.counters.moved_chunks, 2);
  assert.equal(h.counters.node0_moved_chunks, 2);
  assert.equal(h.counters.node1_resent_chunks, 2);
  assert.equal(h.counters.node1_acks, 3);
  assert.equal(h.counters.acks, 3, 'each chunk acknowledged once');
  assert.equal(h.attempts.length, 3, "the core saw one flush per chunk: the moves are the plugin's");
});

test('failover comes back to an earlier node once the chunks in flight are acknowledged', async (t) => {
  const { h, rs, uris } = await setup(t);
  await rs[0]!.close();
  await waitFor(() => h.counters.node0_up === 0, { what: 'node 0 down' });
  const p1 = h.flush(['a']);
  await waitFor(() => rs[1]!.frames.length === 1, { what: 'a on node 1' });
  await rs[0]!.listen(uris[0]!);
  await waitFor(() => h.counters.node0_up === 1, { what: 'node 0 back' });
  // 'a' is not acknowledged yet: 'b' waits rather than overtake it on another node.
  const p2 = h.flush(['b']);
  await new Promise((r) => setTimeout(r, 100)); // the point: nothing moves while 'a' is in flight
  assert.deepEqual(counts(rs), [0, 1, 0]);
  rs[1]!.ackAll();
  assert.equal((await p1).acked, true);
  await waitFor(() => rs[0]!.frames.length === 1, { what: 'b on node 0' });
  rs[0]!.ackAll();
  assert.equal((await p2).acked, true);
});

test("round_robin: a tag with nothing in flight goes to the next node; a lost node's chunks move on", async (t) => {
  const { h, rs } = await setup(t, { balance: 'round_robin' });
  for (const [i, body] of ['a', 'b', 'c', 'd'].entries()) {
    const p = h.flush([body]);
    await waitFor(() => rs[i % 3]!.frames.length === 1, { what: `${body} on node ${i % 3}` }); // ackAll() clears
    rs[i % 3]!.ackAll();
    assert.equal((await p).acked, true);
  }
  // Tag "app" is on node 1 now, with two chunks in flight; node 1 is lost: both go to node 2.
  const inflight = [h.flush(['e']), h.flush(['f'])];
  await waitFor(() => rs[1]!.frames.length === 2, { what: 'e, f on node 1' });
  await rs[1]!.close();
  await waitFor(() => rs[2]!.frames.length === 2, { what: 'e, f moved to node 2' });
  rs[2]!.ackAll();
  for (const s of await Promise.all(inflight)) assert.equal(s.acked, true);
  assert.equal(h.counters.moved_chunks, 2);
  assert.equal(h.counters.acks, 6);
});

test('no node up: chunks wait on their node and go to whichever node comes up first', async (t) => {
  const { h, rs, uris } = await setup(t);
  for (const r of rs) await r.close();
  await waitFor(() => h.counters.node0_up === 0 && h.counters.node1_up === 0 && h.counters.node2_up === 0, { what: 'all down' });
  const p = h.flush(['a']);
  await new Promise((r) => setTimeout(r, 100));
  await rs[2]!.listen(uris[2]!);
  await waitFor(() => rs[2]!.frames.length === 1, { what: 'a on node 2' });
  rs[2]!.ackAll();
  assert.equal((await p).acked, true);
  assert.equal(h.counters.moved_chunks, 1);
});

test('require_ack false: a frame sent while no node is up goes to the first node that comes up, not only to node 0', async (t) => {
  const dir = tempDir(t);
  const rs = [new TestReceiver(), new TestReceiver()];
  const uris = [`unix://${join(dir, 'dead.sock')}`, `unix://${join(dir, 'late.sock')}`];
  for (const r of rs) t.after(() => void r.close());
  const h = await createHarness(vsockForward, {
    options: { upstream: uris, require_ack: false, reconnect_base: '20ms', reconnect_max: '100ms' },
    timeout: 10_000,
  });
  t.after(() => void h.stop({ grace: 100 }));
  // No node is up yet: the frame waits in the upstream link, not in node 0's queue.
  const sent = h.flush(['early']);
  await rs[1]!.listen(uris[1]!); // node 1 comes up; node 0 never does
  await waitFor(() => rs[1]!.frames.length === 1, { what: 'the early frame on node 1' });
  assert.equal((await sent).acked, true, 'settled once written');
  assert.equal(rs[1]!.frames[0]!.ev.records[0]!.body, 'early');
});
