// 100,000 lines from a tailed file in the "enclave" agent to the "parent" agent's file, exactly
// once and in order, over each transport (and both layouts: who listens, who connects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/net.js';
import { assertDelivered, enclaveConfig, parentConfig, resetSource, start, stop, waitForCount, writeLines } from './link.js';
import { startHybridMux } from '../helpers/proxy.js';

const N = 100_000;

test('unix, qlog layout (the enclave listens, the parent connects): 100,000 lines exactly once, in order', async (t) => {
  const dir = tempDir(t, 'qlog-link-');
  resetSource(dir);
  writeLines(dir, 1, N);
  const uri = `unix://${join(dir, 'link.sock')}`;
  const enclave = start(t, dir, enclaveConfig(dir, { mode: 'listen', uri }));
  const parent = start(t, dir, parentConfig(dir, { mode: 'connect', uri }));
  await waitForCount(dir, N, 60_000, [enclave, parent]);
  await new Promise((r) => setTimeout(r, 200)); // nothing more (a duplicate) may arrive before the stop
  await stop(enclave, parent);
  assertDelivered(dir, N);
});

test('tcp, reverse layout (the parent listens, the enclave connects), gzip: 100,000 lines exactly once, in order', async (t) => {
  const dir = tempDir(t, 'qlog-link-');
  resetSource(dir);
  writeLines(dir, 1, N);
  const uri = `tcp://127.0.0.1:${await freePort()}`;
  const parent = start(t, dir, parentConfig(dir, { mode: 'listen', uri }));
  const enclave = start(t, dir, enclaveConfig(dir, { mode: 'connect', uri, extra: { compress: 'gzip' } }));
  await waitForCount(dir, N, 60_000, [enclave, parent]);
  await new Promise((r) => setTimeout(r, 200)); // nothing more (a duplicate) may arrive before the stop
  await stop(enclave, parent);
  assertDelivered(dir, N);
});

test('hybrid vsock (CONNECT/OK multiplexer), with shared_key: 100,000 lines exactly once, in order', async (t) => {
  const dir = tempDir(t, 'qlog-link-');
  resetSource(dir);
  writeLines(dir, 1, N);
  // The "guest" (enclave) listens on its vsock port 6000; the host reaches it through the VMM's socket.
  const guest = join(dir, 'guest_6000.sock');
  const mux = await startHybridMux(join(dir, 'v.sock'), () => ({ path: guest }));
  t.after(() => void mux.close());
  const key = { shared_key: 'hybrid-secret' };
  const enclave = start(t, dir, enclaveConfig(dir, { mode: 'listen', uri: `unix://${guest}`, extra: { ...key, self_hostname: 'enclave' } }));
  const parent = start(t, dir, parentConfig(dir, { mode: 'connect', uri: `vsock+unix://${join(dir, 'v.sock')}:6000`, extra: key }));
  await waitForCount(dir, N, 60_000, [enclave, parent]);
  await new Promise((r) => setTimeout(r, 200)); // nothing more (a duplicate) may arrive before the stop
  await stop(enclave, parent);
  assertDelivered(dir, N);
  assert.ok(mux.accepted >= 1);
});
