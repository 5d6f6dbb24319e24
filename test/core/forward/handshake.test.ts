// The Forward handshake between qlog's own sessions: users (username/password), and each
// mismatch reported with its real cause on both sides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../helpers/wait.js';
import { frame, link, type Ends } from './session-pair.js';

const users = [
  { username: 'alice', password: 'wonder' },
  { username: 'bob', password: 'builder' },
];

async function refused(e: Ends): Promise<{ receiver: string; sender: string }> {
  const sender = await e.sender.ready.then(
    () => assert.fail('the handshake should fail'),
    (err: Error) => err.message,
  );
  await waitFor(() => e.recvClosed.length === 1, { what: 'receiver close' });
  assert.equal(e.recvClosed[0]!.dropped, true);
  assert.equal(e.events.length, 0);
  return { receiver: e.recvClosed[0]!.reason!, sender };
}

test('users: a listed user with its password authenticates, and data flows', async (t) => {
  const e = await link(t, { sharedKey: 'k', users }, { sharedKey: 'k', username: 'bob', password: 'builder' });
  await e.sender.ready;
  assert.equal(e.receiver.clientHostname, 'enclave');
  e.sender.send(frame('c1'), 'c1');
  await waitFor(() => e.acks.length === 1, { what: 'ack' });
});

test('users: a wrong password is refused; the receiver names the user, the sender the cause', async (t) => {
  const r = await refused(await link(t, { sharedKey: 'k', users }, { sharedKey: 'k', username: 'alice', password: 'nope' }));
  assert.equal(r.receiver, 'username/password mismatch: "enclave" sent a wrong password for user "alice"');
  assert.equal(r.sender, 'the receiver refused authentication: username/password mismatch (user "alice" with this password is not one of its users)');
});

test('users: an unknown user is refused', async (t) => {
  const r = await refused(await link(t, { sharedKey: 'k', users }, { sharedKey: 'k', username: 'mallory', password: 'wonder' }));
  assert.equal(r.receiver, 'username/password mismatch: "enclave" sent username "mallory", which is not one of users');
});

test('users: a sender without a username is told to set one', async (t) => {
  const r = await refused(await link(t, { sharedKey: 'k', users }, { sharedKey: 'k' }));
  assert.match(r.receiver, /sent no username and this receiver has users/);
  assert.equal(r.sender, 'the receiver refused authentication: username/password mismatch (it has users and we sent none: set username and password)');
});

test('users and another key: reported as a shared_key mismatch, not as missing credentials', async (t) => {
  const r = await refused(await link(t, { sharedKey: 'k', users }, { sharedKey: 'other', username: 'alice', password: 'wonder' }));
  assert.match(r.receiver, /^shared_key mismatch: the PING from "enclave"/);
  assert.match(r.sender, /^the receiver refused authentication: shared_key mismatch \(its shared_key is not ours/);
  const r2 = await refused(await link(t, { sharedKey: 'k', users }, { sharedKey: 'other' }));
  assert.match(r2.sender, /shared_key mismatch/);
  assert.doesNotMatch(r2.sender, /username/);
});

test('no users on the receiver: a sender with credentials still authenticates (they are not asked for)', async (t) => {
  const e = await link(t, { sharedKey: 'k' }, { sharedKey: 'k', username: 'alice', password: 'wonder' });
  await e.sender.ready;
});
