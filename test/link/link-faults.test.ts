// Faults on the link with real agents: the connection cut 10 times mid-stream, the parent
// SIGKILLed and restarted mid-stream. Nothing lost, nothing duplicated, order kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { assertDelivered, enclaveConfig, messages, outBytes, outLines, parentConfig, resetSource, start, stop, waitForCount, writeLines } from './link.js';
import { startProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';

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
  // The service keeps writing while the link is cut under the agents: each cut comes once the
  // parent's file has grown since the previous one (data is flowing) and before the writer is done.
  let written = 0;
  let cuts = 0;
  let grownFrom = 0;
  const deadline = Date.now() + 60_000;
  while (cuts < 10 && Date.now() < deadline) {
    // Each cut comes while chunks are in flight, however fast the link drains. From a settled
    // link (reconnected, every line so far delivered and acked: acks held while the enclave
    // resends would fill its window), the proxy holds the parent's acks back, a batch is written,
    // and once the parent's file has grown (the lines arrived, their acks did not) the link is
    // cut: the enclave must send those chunks again.
    await waitFor(() => proxy.connections > 0, { timeoutMs: 30_000, what: 'the parent reconnected' });
    await waitForCount(dir, written, 30_000, [enclave, parent]);
    await new Promise((r) => setTimeout(r, 20));
    proxy.holdUpstream(true);
    if (written < N - 150) {
      writeLines(dir, written + 1, written + 150);
      written += 150;
    }
    const grown = await waitFor(() => outBytes(dir) > grownFrom, { timeoutMs: 5_000 }).catch(() => false);
    if (grown) {
      proxy.cut();
      cuts++;
      grownFrom = outBytes(dir);
    }
    proxy.holdUpstream(false);
    await new Promise((r) => setTimeout(r, 27));
  }
  writeLines(dir, written + 1, N);
  await waitForCount(dir, N, 60_000, [enclave, parent]);
  await new Promise((r) => setTimeout(r, 300)); // nothing more (a duplicate) may arrive before the stop
  await stop(enclave, parent);
  assert.equal(cuts, 10, 'the link was cut 10 times while lines were flowing');
  assert.ok(proxy.accepted >= 11, `reconnected after every cut (${proxy.accepted} connections)`);
  assert.ok(
    messages(enclave).some((m) => /resent \d+ unacknowledged chunks/.test(m)),
    'chunks in flight at a cut were resent',
  );
  assertDelivered(dir, N);
});

test('the parent is SIGKILLed mid-stream and restarted: nothing lost or duplicated', async (t) => {
  const N = 60_000;
  const dir = tempDir(t, 'qlog-link-');
  resetSource(dir);
  writeLines(dir, 1, 5_000);
  const uri = `unix://${join(dir, 'link.sock')}`;
  const enclave = start(t, dir, enclaveConfig(dir, { mode: 'listen', uri, extra: { flush_max_size: '32KiB', max_inflight_chunks: 8 } }));
  const parentFile = parentConfig(dir, { mode: 'connect', uri });
  const parent1 = start(t, dir, parentFile);
  await waitForCount(dir, 5_000, 30_000, [enclave, parent1]);
  // The service keeps writing (500 lines every 5 ms, ~0.5 s for the rest) while the parent is
  // killed: the kill falls mid-stream however fast the link drains (with every line written
  // up front, a fast link had delivered all of them before the kill).
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let written = 5_000;
  const feeding = (async () => {
    for (let from = 5_001; from <= N; from += 500) {
      writeLines(dir, from, Math.min(N, from + 499));
      written = Math.min(N, from + 499);
      await sleep(5);
    }
  })();
  // Killed once lines written after the start have reached the file (the stream flows).
  await waitForCount(dir, 6_000, 30_000, [enclave, parent1]);
  parent1.signal('SIGKILL');
  await parent1.exited;
  const atKill = outLines(dir).length;
  const writtenAtKill = written;
  const parent2 = start(t, dir, parentFile);
  await feeding;
  await waitForCount(dir, N, 60_000, [enclave, parent2]);
  await new Promise((r) => setTimeout(r, 300)); // nothing more (a duplicate) may arrive before the stop
  await stop(enclave, parent2);
  assert.ok(atKill >= 6_000 && writtenAtKill < N, `killed mid-stream (${atKill} lines in, ${writtenAtKill} of ${N} written)`);
  assertDelivered(dir, N);
});
