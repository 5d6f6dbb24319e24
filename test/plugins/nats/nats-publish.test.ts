// nats output against a real nats-server with JetStream: what is stored, when a chunk is acked,
// and what the user reads when the stream, the server or the credentials are wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHarness } from '../../../core/testing/index.js';
import nats from '../../../plugins/nats/index.js';
import { natsServerAvailable, startNatsServer } from '../../helpers/nats-server.js';
import { waitFor } from '../../helpers/wait.js';

const skip = natsServerAvailable() ? false : 'nats-server is not installed (apt-get install nats-server)';
type Ctx = test.TestContext;

async function withStream(t: Ctx, cfg: Record<string, unknown> = {}) {
  const srv = await startNatsServer(t);
  await srv.addStream({ name: 'LOGS', subjects: ['logs.>'], ...cfg });
  return srv;
}

async function harness(t: Ctx, url: string, options: Record<string, unknown> = {}, more: Record<string, unknown> = {}) {
  const h = await createHarness(nats, { options: { servers: [url], stream: 'LOGS', connect_timeout: '2s', ...options }, timeout: 15_000, ...more });
  t.after(() => h.stop({ grace: 200 }));
  return h;
}

const rec = (body: string, seq: number, tag = 'app.web') => ({ body, tag, meta: { src: 'f1', seq } });

test('each record is one message on its subject, with Nats-Msg-Id src:seq; the flush resolves once all are stored', { skip }, async (t) => {
  const srv = await withStream(t);
  const h = await harness(t, srv.url);
  const r = await h.flush([rec('one', 4), rec('two', 8), rec('three', 14)]);
  assert.equal(r.status, 'acked');
  const msgs = await srv.read('LOGS');
  assert.deepEqual(
    msgs.map((m) => [m.subject, m.data, m.id]),
    [
      ['logs.app.web', 'one', 'f1:4'],
      ['logs.app.web', 'two', 'f1:8'],
      ['logs.app.web', 'three', 'f1:14'],
    ],
  );
  assert.equal(h.counters.acks, 3);
});

test('a resend of the same records is dropped by JetStream (duplicates), the flush still acks', { skip }, async (t) => {
  const srv = await withStream(t);
  const h = await harness(t, srv.url);
  const batch = Array.from({ length: 500 }, (_, i) => rec(`line ${i}`, i + 1));
  assert.equal((await h.flush(batch)).status, 'acked');
  assert.equal((await h.flush(batch)).status, 'acked');
  assert.equal(await srv.count('LOGS'), 500);
  assert.equal(h.counters.duplicates, 500);
});

test('records without src/seq get ids from the chunk id; the subject template renders per record', { skip }, async (t) => {
  const srv = await withStream(t);
  const h = await harness(t, srv.url, { subject: 'logs.${tag}.${level:-none}', format: 'json' });
  const r = await h.flush([{ body: { message: 'hi', level: 'info' } }, { body: { message: 'bare' } }]);
  assert.equal(r.status, 'acked');
  const msgs = await srv.read('LOGS');
  assert.deepEqual(
    msgs.map((m) => m.subject),
    ['logs.test.info', 'logs.test.none'],
  );
  assert.equal(msgs[0]!.id, `${h.attempts[0]!.chunk.id}:0`);
  const o = JSON.parse(msgs[0]!.data) as Record<string, unknown>;
  assert.equal(o.tag, 'test');
  assert.equal(o.message, 'hi');
  assert.match(String(o.time), /^\d{4}-\d\d-\d\dT/);
});

test('a missing stream stops the start with a clear error; create_stream creates it', { skip }, async (t) => {
  const srv = await startNatsServer(t);
  await assert.rejects(createHarness(nats, { options: { servers: [srv.url], stream: 'NOPE' }, timeout: 10_000 }), (e: Error) =>
    /JetStream stream "NOPE" does not exist on nats:\/\/127\.0\.0\.1:\d+; create it \(nats stream add NOPE --subjects "logs\.>"\) or set create_stream: true/.test(
      e.message,
    ),
  );
  const h = await createHarness(nats, { options: { servers: [srv.url], stream: 'MADE', create_stream: true }, timeout: 10_000 });
  t.after(() => h.stop({ grace: 200 }));
  assert.equal((await h.flush([rec('x', 1)])).status, 'acked');
  assert.equal(await srv.count('MADE'), 1);
  assert.ok(h.logs.some((l) => /created JetStream stream MADE \(subjects logs\.>\)/.test(String(l.msg))));
});

test('refused credentials stop the start; the right ones work (user/password, token)', { skip }, async (t) => {
  const srv = await startNatsServer(t, { args: ['--user', 'qlog', '--pass', 's3cret'], client: { user: 'qlog', pass: 's3cret' } });
  await srv.addStream({ name: 'LOGS', subjects: ['logs.>'] });
  await assert.rejects(
    createHarness(nats, { options: { servers: [srv.url], stream: 'LOGS', user: 'qlog', password: 'wrong' }, timeout: 10_000 }),
    /NATS at nats:\/\/127\.0\.0\.1:\d+ refused the credentials \(Authorization Violation\); check user and password/,
  );
  const h = await harness(t, srv.url, { user: 'qlog', password: 's3cret' });
  assert.equal((await h.flush([rec('x', 1)])).status, 'acked');

  const tok = await startNatsServer(t, { args: ['--auth', 'tok3n'], client: { token: 'tok3n' } });
  await tok.addStream({ name: 'LOGS', subjects: ['logs.>'] });
  const h2 = await harness(t, tok.url, { token: 'tok3n' });
  assert.equal((await h2.flush([rec('y', 1)])).status, 'acked');
  assert.equal(await tok.count('LOGS'), 1);
});

test('a server that is down at start does not stop it: flushes fail until it is up, then deliver', { skip }, async (t) => {
  const srv = await withStream(t);
  await srv.kill();
  const h = await harness(t, srv.url, { connect_timeout: '300ms', reconnect_wait: '100ms', publish_timeout: '300ms' });
  assert.ok(h.logs.some((l) => /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: connection refused; qlog keeps trying/.test(String(l.msg))));
  const down = await h.flush([rec('early', 1)]);
  assert.equal(down.status, 'nacked');
  assert.match(String(down.error), /cannot connect to NATS/);
  await srv.start();
  // The client redials every reconnect_wait; on a busy machine the first flush after the start
  // can still find it down. The engine would retry the chunk: do the same (JetStream dedupes by id).
  let up = await h.flush([rec('early', 1)]);
  await waitFor(
    async () => {
      if (up.status !== 'acked') up = await h.flush([rec('early', 1)]);
      return up.status === 'acked';
    },
    {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'a flush acked once nats-server is up',
    },
  ).catch(() => undefined);
  assert.equal(up.status, 'acked', String(up.error));
  assert.deepEqual(
    (await srv.read('LOGS')).map((m) => m.data),
    ['early'],
  );
});

test('a full stream (discard new) nacks the chunk with the reason; its retry sends only what was not stored', { skip }, async (t) => {
  const srv = await withStream(t, { max_msgs: 3, discard: 'new' });
  const h = await harness(t, srv.url, { max_inflight: 2, retry_limit: 1000, retry_max: '50ms' });
  const batch = Array.from({ length: 5 }, (_, i) => rec(`l${i}`, i + 1));
  const pending = h.flush(batch);
  await waitFor(() => h.attempts.length >= 3, { what: 'retries of the refused chunk' });
  assert.equal(await srv.count('LOGS'), 3);
  assert.ok(h.logs.some((l) => /stream "LOGS" is full and refused \d+ message\(s\) \(maximum messages exceeded\)/.test(String(l.msg))));
  await srv.updateStream('LOGS', { subjects: ['logs.>'], max_msgs: 100, discard: 'new' });
  assert.equal((await pending).status, 'acked');
  assert.deepEqual(
    (await srv.read('LOGS')).map((m) => m.data),
    ['l0', 'l1', 'l2', 'l3', 'l4'],
  );
  assert.equal(h.counters.duplicates ?? 0, 0, 'the retry did not send the stored messages again');
  // A new chunk with the same records: JetStream drops them all by Nats-Msg-Id.
  assert.equal((await h.flush(batch)).status, 'acked');
  assert.equal(await srv.count('LOGS'), 5);
  assert.equal(h.counters.duplicates, 5);
});

test('a subject no stream stores, or another stream stores, is refused and reported', { skip }, async (t) => {
  const srv = await withStream(t);
  await srv.addStream({ name: 'OTHER', subjects: ['other.>'] });
  const h = await harness(t, srv.url, { subject: '${dest}' });
  const none = await h.flush([{ body: { message: 'x', dest: 'nowhere.x' } }]);
  assert.match(String(none.error), /no JetStream stream stores subject nowhere\.x; add it to the subjects of stream "LOGS"/);
  const other = await h.flush([{ body: { message: 'x', dest: 'other.x' } }]);
  assert.match(String(other.error), /subject other\.x is stored by another stream than "LOGS"/);
  assert.equal(await srv.count('OTHER'), 0);
});

test('a record larger than max_payload is dropped and counted; the rest is delivered', { skip }, async (t) => {
  const srv = await startNatsServer(t, { conf: 'max_payload: 4096' });
  await srv.addStream({ name: 'LOGS', subjects: ['logs.>'] });
  const h = await harness(t, srv.url);
  const r = await h.flush([rec('small', 1), rec('x'.repeat(10_000), 2), rec('after', 3)]);
  assert.equal(r.status, 'acked');
  assert.deepEqual(
    (await srv.read('LOGS')).map((m) => m.data),
    ['small', 'after'],
  );
  assert.equal(h.counters.records_too_large, 1);
  assert.ok(h.logs.some((l) => /dropped 1 record\(s\) of app\.web larger than the server or stream allows/.test(String(l.msg))));
});

test('nats-server restarted between flushes: the output reconnects and delivers', { skip }, async (t) => {
  const srv = await withStream(t);
  const h = await harness(t, srv.url, { reconnect_wait: '100ms', publish_timeout: '3s' });
  assert.equal((await h.flush([rec('before', 1)])).status, 'acked');
  await srv.restart();
  let r = await h.flush([rec('after', 2)]);
  for (let i = 0; i < 20 && r.status !== 'acked'; i++) r = await h.flush([rec('after', 2)]);
  assert.equal(r.status, 'acked', String(r.error));
  assert.deepEqual(
    (await srv.read('LOGS')).map((m) => m.data),
    ['before', 'after'],
  );
  assert.ok((h.counters.disconnects ?? 0) >= 1);
});
