// End-to-end acknowledgement and dedupe at the input: a chunk is acked only when the pipeline
// settled it; a chunk resent after a lost ack is acked again and not delivered twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHarness } from '../../../core/testing/index.js';
import vsock from '../../../plugins/vsock/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { sender } from './client.js';

async function setup(t: { after(f: () => void): void }, extra: Record<string, unknown> = {}) {
  const dir = tempDir(t);
  const uri = `unix://${join(dir, 'in.sock')}`;
  const h = await createHarness(vsock, { options: { listen: uri, ...extra }, ack: 'manual', output: { workers: 8 } });
  t.after(() => void h.stop({ grace: 200 }));
  return { h, uri };
}

test('records arrive with the peer identity and their meta; the ack waits for the pipeline', async (t) => {
  const { h, uri } = await setup(t);
  const s = await sender(uri);
  s.send('c1', ['a', 'b', 'c'], 'app.x', (i) => ({ src: 'file1', seq: i + 1, path: '/var/log/x', cid: 99, peer: 'forged' }));
  const got = await h.collect({ count: 3 });
  assert.deepEqual(
    got.map((r) => r.body),
    ['a', 'b', 'c'],
  );
  assert.equal(got[0]!.tag, 'app.x');
  assert.equal(got[2]!.meta.seq, 3);
  assert.equal(got[2]!.meta.src, 'file1');
  assert.equal(got[2]!.meta.path, '/var/log/x');
  assert.match(String(got[0]!.meta.peer), /^unix:.*in\.sock#1$/);
  assert.equal(got[0]!.meta.cid, undefined, 'a forged cid is removed for non-vsock peers');
  await new Promise((r) => setTimeout(r, 100)); // the point: no ack comes while the output holds the chunk
  assert.deepEqual(s.acks, [], 'no ack before the output acked');
  h.ack();
  await waitFor(() => s.acks.length === 1, { what: 'ack' });
  assert.deepEqual(s.acks, ['c1']);
  s.close();
});

test('a resend of a settled chunk is acked again and not delivered twice', async (t) => {
  const { h, uri } = await setup(t);
  const s1 = await sender(uri);
  s1.send('c1', ['x'], 'app');
  await h.collect({ count: 1 });
  h.ack();
  await waitFor(() => s1.acks.length === 1, { what: 'first ack' });
  s1.close();
  // The ack was "lost": the sender resends on a new connection.
  const s2 = await sender(uri);
  s2.send('c1', ['x'], 'app');
  await waitFor(() => s2.acks.length === 1, { what: 'ack of the resend' });
  assert.equal((await h.collect({ ms: 100 })).length, 0);
  assert.equal(h.counters.duplicate_chunks, 1);
  s2.close();
});

test('a resend of a chunk still in the pipeline is acked when the first copy settles', async (t) => {
  const { h, uri } = await setup(t);
  const s1 = await sender(uri);
  s1.send('c1', ['y1', 'y2'], 'app');
  await h.collect({ count: 2 });
  s1.close(); // connection lost before the ack
  const s2 = await sender(uri);
  s2.send('c1', ['y1', 'y2'], 'app');
  await waitFor(() => h.counters.duplicate_chunks === 1, { what: 'duplicate noticed' });
  assert.deepEqual(s2.acks, []);
  h.ack();
  await waitFor(() => s2.acks.length === 1, { what: 'ack after settle' });
  assert.equal(h.received.length, 2);
  s2.close();
});

test('a chunk an output dropped is still acked (the sender must not resend forever)', async (t) => {
  const { h, uri } = await setup(t);
  const s = await sender(uri);
  s.send('c1', ['z'], 'app');
  await h.collect({ count: 1 });
  h.drop(new Error('disk gone'));
  await waitFor(() => s.acks.length === 1, { what: 'ack' });
  assert.equal(h.counters.chunks_dropped_downstream, 1);
  s.close();
});

test('dedupe_window 0: every copy is delivered', async (t) => {
  const { h, uri } = await setup(t, { dedupe_window: 0 });
  const s = await sender(uri);
  s.send('c1', ['x'], 'app');
  s.send('c1', ['x'], 'app');
  await h.collect({ count: 2 });
  h.ack();
  await waitFor(() => s.acks.length >= 1, { what: 'ack' });
  s.close();
});

test('tags from the wire are validated, tag_prefix is prepended', async (t) => {
  const { h, uri } = await setup(t, { tag_prefix: 'enclave.' });
  const s = await sender(uri);
  s.send('c1', ['x'], '../../etc');
  s.send('c2', ['y'], 'ok.tag');
  const got = await h.collect({ count: 2 });
  assert.deepEqual(
    got.map((r) => r.tag),
    ['enclave.__._etc', 'enclave.ok.tag'],
  );
  assert.equal(h.counters.tags_rewritten, 1);
  assert.ok(h.logs.some((l) => /rewritten to "__\._etc"/.test(String(l.msg))));
  h.ack();
  s.close();
});
