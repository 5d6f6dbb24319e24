// Faults on the link with real agents: the connection cut 10 times mid-stream, the parent
// SIGKILLed and restarted mid-stream. Nothing lost, nothing duplicated, order kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { check, enclaveConfig, messages, outLines, parentConfig, resetSource, start, stop, waitForCount, writeLines } from './link.js';
import { startProxy } from './proxy.js';

const clean = (n: number) => ({ count: n, missing: 0, duplicated: 0, outOfOrder: 0, firstProblem: undefined });

test('the connection is cut 10 times mid-stream: nothing lost or duplicated', async (t) => {
  const N = 100_000;
  const dir = tempDir(t, 'qlog-link-');
  resetSource(dir);
  const enclaveSock = join(dir, 'enclave.sock');
  const proxySock = join(dir, 'proxy.sock');
  const proxy = await startProxy({ path: proxySock }, { path: enclaveSock });
  t.after(() => void proxy.close());
  const enclave = start(t, dir, enclaveConfig(dir, { mode: 'listen', uri: `unix://${enclaveSock}`, extra: { flush_max_size: '64KiB' } }));
  const parent = start(t, dir, parentConfig(dir, { mode: 'connect', uri: `unix://${proxySock}` }));
  // The service writes while the link is cut under the agents, every ~150 ms.
  let written = 0;
  let cuts = 0;
  let lastCount = -1;
  while (written < N || cuts < 10) {
    if (written < N) {
      writeLines(dir, written + 1, Math.min(N, written + 2500));
      written = Math.min(N, written + 2500);
    }
    await new Promise((r) => setTimeout(r, 150));
    const c = outLines(dir).length;
    // Cut only while data is moving (mid-stream) and a connection is up.
    if (cuts < 10 && c !== lastCount && proxy.connections > 0) {
      proxy.cut();
      cuts++;
    }
    lastCount = c;
    if (cuts < 10 && written >= N && c >= N) break;
  }
  await waitForCount(dir, N, 60_000, [enclave, parent]);
  await new Promise((r) => setTimeout(r, 300));
  await stop(enclave, parent);
  assert.equal(cuts, 10, 'the link was cut 10 times while lines were flowing');
  assert.ok(proxy.accepted >= 11, `reconnected after every cut (${proxy.accepted} connections)`);
  assert.ok(messages(enclave).some((m) => /resent \d+ unacknowledged chunks/.test(m)), 'chunks in flight at a cut were resent');
  assert.deepEqual(check(dir, N), clean(N));
});

test('the parent is SIGKILLed mid-stream and restarted: nothing lost or duplicated', async (t) => {
  const N = 60_000;
  const dir = tempDir(t, 'qlog-link-');
  resetSource(dir);
  writeLines(dir, 1, N);
  const uri = `unix://${join(dir, 'link.sock')}`;
  const enclave = start(t, dir, enclaveConfig(dir, { mode: 'listen', uri, extra: { flush_max_size: '32KiB', max_inflight_chunks: 8 } }));
  const parentFile = parentConfig(dir, { mode: 'connect', uri });
  const parent1 = start(t, dir, parentFile);
  await waitForCount(dir, 5_000, 30_000, [enclave, parent1]);
  parent1.signal('SIGKILL');
  await parent1.exited;
  const atKill = outLines(dir).length;
  const parent2 = start(t, dir, parentFile);
  await waitForCount(dir, N, 60_000, [enclave, parent2]);
  await new Promise((r) => setTimeout(r, 300));
  await stop(enclave, parent2);
  assert.ok(atKill < N, `killed mid-stream (${atKill} of ${N} lines were in)`);
  assert.deepEqual(check(dir, N), clean(N));
});
