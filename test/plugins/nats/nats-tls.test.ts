// nats output over TLS against a real nats-server (--tls, --tlsverify), with the shared `tls` map:
// the server's certificate checked against tls.ca_file, the client certificate sent for mutual
// TLS, and a server the CA does not vouch for refused with the reason (nothing stored, the chunk
// not acked: it is retried).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHarness } from '../../../core/testing/index.js';
import nats from '../../../plugins/nats/index.js';
import { hasOpenssl, makeCerts } from '../../helpers/certs.js';
import { natsServerAvailable, startNatsServer } from '../../helpers/nats-server.js';
import { tempDir } from '../../helpers/tmp.js';

const skip = !natsServerAvailable() ? 'nats-server is not installed (apt-get install nats-server)' : !hasOpenssl() ? 'the openssl CLI is not installed' : false;
type Ctx = test.TestContext;

async function harness(t: Ctx, servers: string[], tls: Record<string, unknown>, more: Record<string, unknown> = {}) {
  const h = await createHarness(nats, { options: { servers, stream: 'LOGS', connect_timeout: '2s', tls, ...more }, timeout: 15_000 });
  t.after(() => h.stop({ grace: 200 }));
  return h;
}

const rec = (body: string, seq: number) => ({ body, tag: 'app', meta: { src: 'f1', seq } });

test('tls:// with tls.ca_file delivers; nats:// with tls options does too', { skip }, async (t) => {
  const c = makeCerts(tempDir(t));
  const srv = await startNatsServer(t, { tls: { server: c.server, ca: c.ca } });
  await srv.addStream({ name: 'LOGS', subjects: ['logs.>'] });
  assert.match(srv.url, /^tls:\/\//);
  const h = await harness(t, [srv.url], { ca_file: c.ca });
  assert.equal((await h.flush([rec('one', 1)])).status, 'acked');
  const h2 = await harness(t, [`nats://localhost:${srv.port}`], { ca_file: c.ca, min_version: 'TLSv1.3' });
  assert.equal((await h2.flush([rec('two', 2)])).status, 'acked');
  assert.deepEqual(
    (await srv.read('LOGS')).map((m) => m.data),
    ['one', 'two'],
  );
});

test('mutual TLS (--tlsverify): crt_file/key_file are sent; without them the server refuses', { skip }, async (t) => {
  const c = makeCerts(tempDir(t));
  const srv = await startNatsServer(t, { tls: { server: c.server, ca: c.ca, verify: c.client } });
  await srv.addStream({ name: 'LOGS', subjects: ['logs.>'] });
  const h = await harness(t, [srv.url], { ca_file: c.ca, crt_file: c.client.crt, key_file: c.client.key });
  assert.equal((await h.flush([rec('one', 1)])).status, 'acked');

  const bare = await harness(t, [srv.url], { ca_file: c.ca }, { publish_timeout: '1s' });
  const r = await bare.flush([rec('two', 2)]);
  assert.equal(r.status, 'nacked');
  assert.match(String(r.error), /over TLS: if the server verifies clients \(tlsverify\), set tls\.crt_file and tls\.key_file/);
  assert.equal(await srv.count('LOGS'), 1);
});

test('a server certificate of another CA is refused with the reason; nothing is stored or acked', { skip }, async (t) => {
  const c = makeCerts(tempDir(t));
  const srv = await startNatsServer(t, { tls: { server: c.server, ca: c.ca } });
  await srv.addStream({ name: 'LOGS', subjects: ['logs.>'] });
  const h = await harness(t, [srv.url], { ca_file: c.otherCa }, { publish_timeout: '1s' });
  const r = await h.flush([rec('one', 1)]);
  assert.equal(r.status, 'nacked');
  const said = `the server's certificate is not trusted: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); expected one signed by a CA in tls.ca_file ${c.otherCa}`;
  assert.ok(String(r.error).includes(said), String(r.error));
  assert.ok(h.logs.some((l) => String(l.msg).includes(said)));
  assert.equal(h.counters.acks ?? 0, 0);
  assert.equal(await srv.count('LOGS'), 0);
});
