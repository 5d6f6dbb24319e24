import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../../../core/testing/index.js';
import vsock from '../../../plugins/vsock/index.js';
import { sender } from './client.js';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

test('an unknown option is rejected', async () => {
  await assert.rejects(createHarness(vsock, { options: { listen: 'tcp://127.0.0.1:0', lisen: 'x' } }), /unknown key "lisen"/);
});

test('exactly one of connect and listen', async () => {
  await assert.rejects(createHarness(vsock, { options: {} }), /expected one of connect .* or listen .*, found neither/);
  await assert.rejects(createHarness(vsock, { options: { listen: 'tcp://127.0.0.1:0', connect: 'tcp://127.0.0.1:1' } }), /either connect or listen, not both/);
});

test('addresses are checked at config time', async () => {
  await assert.rejects(createHarness(vsock, { options: { listen: 'vsock://x:1' } }), /listen.*expected a CID/s);
  await assert.rejects(createHarness(vsock, { options: { connect: 'vsock://any:1' } }), /found "any" \(only valid for listen\)/);
  await assert.rejects(createHarness(vsock, { options: { listen: 'udp://h:1' } }), /expected one of the schemes/);
});

test('defaults', async () => {
  const h = await createHarness(vsock, { options: { listen: 'tcp://127.0.0.1:0' } });
  assert.equal(h.options.max_frame_size, 16 * 1024 * 1024);
  assert.deepEqual(h.options.allowed_cids, []);
  assert.equal(h.options.dedupe_window, 10000);
  await h.stop();
});

test('users need shared_key; with both, only a listed user gets in', async (t) => {
  const users = [{ username: 'alice', password: 'wonder' }];
  await assert.rejects(
    createHarness(vsock, { options: { listen: 'tcp://127.0.0.1:0', users } }),
    /users are checked in the shared_key handshake: set shared_key too/,
  );
  await assert.rejects(createHarness(vsock, { options: { listen: 'tcp://127.0.0.1:0', shared_key: 'k', users: [{ username: 'alice' }] } }), /password/);
  const uri = `unix://${join(tempDir(t), 'in.sock')}`;
  const h = await createHarness(vsock, { options: { listen: uri, shared_key: 'k', users } });
  t.after(() => void h.stop());
  const alice = await sender(uri, { sharedKey: 'k', username: 'alice', password: 'wonder' });
  alice.send('c1', ['hello']);
  await waitFor(() => alice.acks.length === 1, { what: 'ack' });
  alice.close();
  await assert.rejects(sender(uri, { sharedKey: 'k', username: 'alice', password: 'nope' }), /username\/password mismatch \(user "alice"/);
  await assert.rejects(sender(uri, { sharedKey: 'k' }), /it has users and we sent none/);
  await waitFor(() => h.logs.filter((l) => /dropped peer/.test(String(l.msg))).length === 2, { what: 'two drops' });
  const drops = h.logs.map((l) => String(l.msg)).filter((m) => /dropped peer/.test(m));
  assert.match(drops[0]!, /wrong password for user "alice"/);
  assert.match(drops[1]!, /sent no username and this receiver has users/);
});
