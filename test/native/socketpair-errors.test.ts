// Errors after the peer closed map to QLOG_ERR_VSOCK_RESET and never crash the process.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { QlogVsockError, unixSocketPair } from '../../core/transport/vsock-native.js';
import { addonSkipReason, closed } from './helpers.js';

const skip = addonSkipReason();

test('writing after the peer closed: EPIPE -> QLOG_ERR_VSOCK_RESET', { skip }, async () => {
  const [a, b] = unixSocketPair();
  b.destroy();
  await closed(b);
  const errored = once(a, 'error');
  const done = closed(a);
  const writeErr = new Promise<Error | null | undefined>((resolve) => a.write('are you there?', resolve));
  const [err] = (await errored) as [QlogVsockError];
  assert.ok(err instanceof QlogVsockError);
  assert.equal(err.code, 'QLOG_ERR_VSOCK_RESET');
  assert.equal(err.errno, 'EPIPE');
  assert.equal(err.syscall, 'write');
  assert.match(err.message, /reset by the peer/);
  assert.equal(await writeErr, err);
  await done;
});

test('reading after the peer closed with unread data: ECONNRESET -> QLOG_ERR_VSOCK_RESET', { skip }, async () => {
  const [a, b] = unixSocketPair();
  await new Promise((resolve) => a.write('never read by b', resolve));
  b.destroy(); // closes with unread data: the kernel resets a
  const errored = once(a, 'error');
  const done = closed(a);
  a.resume();
  const [err] = (await errored) as [QlogVsockError];
  assert.equal(err.code, 'QLOG_ERR_VSOCK_RESET');
  assert.equal(err.errno, 'ECONNRESET');
  assert.equal(err.syscall, 'read');
  await done;
});

test('a clean close of the peer is just "end", not an error', { skip }, async () => {
  const [a, b] = unixSocketPair();
  let errored = false;
  a.on('error', () => {
    errored = true;
  });
  const done = Promise.all([closed(a), closed(b)]);
  b.end();
  b.resume();
  a.resume();
  await once(a, 'end');
  a.end();
  await done;
  assert.equal(errored, false);
});
