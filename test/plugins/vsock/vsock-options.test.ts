import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../../../core/testing/index.js';
import vsock from '../../../plugins/vsock/index.js';

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
