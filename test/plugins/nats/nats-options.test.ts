// nats output: options and their cross-field checks (no server needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHarness } from '../../../core/testing/index.js';
import nats from '../../../plugins/nats/index.js';
import { streamSubjects } from '../../../plugins/nats/nats-client.js';
import { cleanSubject } from '../../../plugins/nats/nats-publish.js';

const base = { stream: 'LOGS', servers: ['nats://127.0.0.1:1'], connect_timeout: '200ms' };
const opts = (o: Record<string, unknown>) => ({ options: { ...base, ...o }, start: false });

test('an unknown option is rejected', async () => {
  await assert.rejects(createHarness(nats, opts({ subjekt: 'x' })), /unknown key "subjekt" \(did you mean "subject"\?\)/);
});

test('stream is required; servers must be nats:// URLs', async () => {
  await assert.rejects(createHarness(nats, { options: {}, start: false }), /missing required option "stream"/);
  await assert.rejects(createHarness(nats, opts({ servers: ['tcp://127.0.0.1:4222'] })), /servers\/0|servers\[0\]/);
  await assert.rejects(createHarness(nats, opts({ servers: [] })), /servers/);
});

test('tls: servers all nats:// or all tls://; the shared tls checks apply', async () => {
  await assert.rejects(
    createHarness(nats, opts({ servers: ['tls://127.0.0.1:1', 'nats://127.0.0.1:2'] })),
    /servers: expected all servers nats:\/\/ or all tls:\/\/, found tls:\/\/127\.0\.0\.1:1, nats:\/\/127\.0\.0\.1:2/,
  );
  await assert.rejects(createHarness(nats, opts({ tls: { crt_file: 'c.pem' } })), /tls: expected tls\.crt_file and tls\.key_file together/);
  await assert.rejects(createHarness(nats, opts({ tls: { verfy: false } })), /unknown key "verfy" \(did you mean "verify"\?\)/);
  const h = await createHarness(nats, opts({ servers: ['tls://127.0.0.1:1'], tls: { verify: false } }));
  await h.stop();
});

test('subject must be a valid template; create_stream needs a literal first token', async () => {
  await assert.rejects(createHarness(nats, opts({ subject: 'logs.${tag' })), /subject: unclosed "\$\{"/);
  await assert.rejects(createHarness(nats, opts({ subject: '${tag}', create_stream: true })), /create_stream: cannot derive the subjects of a new stream/);
  await assert.rejects(createHarness(nats, opts({ subject: 'logs-${tag}', create_stream: true })), /create_stream: cannot derive/);
  assert.deepEqual(streamSubjects('logs.${tag}'), ['logs.>']);
  assert.deepEqual(streamSubjects('a.b.${host}.${tag}'), ['a.b.>']);
  assert.deepEqual(streamSubjects('fixed.subject'), ['fixed.subject']);
  assert.equal(streamSubjects('${tag}'), undefined);
});

test('credentials: one way to authenticate, user and password together', async () => {
  await assert.rejects(createHarness(nats, opts({ user: 'u' })), /password: user needs a password/);
  await assert.rejects(createHarness(nats, opts({ password: 'p' })), /user: password needs a user/);
  await assert.rejects(
    createHarness(nats, opts({ user: 'u', password: 'p', token: 't' })),
    /token: give one way to authenticate, found user\/password and token/,
  );
  await assert.rejects(createHarness(nats, opts({ creds_file: 'a.creds', nkey_file: 'b.nk' })), /give one way to authenticate, found creds_file and nkey_file/);
  const h = await createHarness(nats, opts({ user: 'u', password: 'p' }));
  await h.stop();
});

test('rendered subjects are made publishable', () => {
  assert.equal(cleanSubject('logs.app.web'), 'logs.app.web');
  assert.equal(cleanSubject('logs.my app.*.>'), 'logs.my_app._._');
  assert.equal(cleanSubject('logs..x.'), 'logs._.x._');
  assert.equal(cleanSubject(''), '_');
});
