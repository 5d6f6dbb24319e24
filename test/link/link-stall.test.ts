// The parent is frozen (SIGSTOP) for 20 s while the service keeps writing: the enclave agent's
// memory stays bounded (tail stops reading: the file is the buffer), then everything arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { freePort, httpGet } from '../helpers/net.js';
import { writeConfig } from '../helpers/tmp.js';
import { assertDelivered, outLines, parentConfig, resetSource, start, stop, waitForCount, writeLines } from './link.js';

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

async function tailRead(port: number): Promise<number> {
  const r = await httpGet(`http://127.0.0.1:${port}/api/v1/metrics`);
  const m = (JSON.parse(r.body) as { name: string; counters: Record<string, number> }[]).find((x) => x.name === 'tail');
  return m?.counters.records_out ?? 0;
}

test('parent stopped for 20 s: enclave memory stays bounded, then every line arrives once', async (t) => {
  const N = 120_000;
  const lineBytes = 100;
  const dir = tempDir(t, 'qlog-link-');
  resetSource(dir);
  const uri = `unix://${join(dir, 'link.sock')}`;
  const http = await freePort();
  // Small, explicit bounds: 512 KiB input queue, 1 MiB output buffer, 512 KiB unacked on the wire.
  const enclaveFile = writeConfig(
    dir,
    'enclave.yaml',
    `
service:
  log_level: info
  state_dir: ${join(dir, 'state-enclave')}
  http_listen: 127.0.0.1:${http}
  grace: 2s
pipeline:
  inputs:
    - name: tail
      tag: app
      path: ${join(dir, 'source.log')}
      read_from_head: true
      refresh_interval: 100ms
      buffer_limit: 512KiB
  outputs:
    - name: vsock-forward
      match: '*'
      listen: ${uri}
      workers: 4
      buffer_limit: 1MiB
      max_inflight: 512KiB
      max_frame_size: 128KiB
      heartbeat: 1s
      ack_timeout: 60s
`,
  );
  const enclave = start(t, dir, enclaveFile);
  const parent = start(t, dir, parentConfig(dir, { mode: 'connect', uri }));
  writeLines(dir, 1, 10_000, lineBytes);
  await waitForCount(dir, 10_000, 30_000, [enclave, parent]);

  parent.signal('SIGSTOP');
  t.after(() => parent.signal('SIGCONT'));
  const before = rss(enclave.pid);
  const readAtStop = await tailRead(http);
  writeLines(dir, 10_001, N, lineBytes); // ~11 MB the enclave must not take into memory
  let peak = before;
  let readLate = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < 20_000) {
    await new Promise((r) => setTimeout(r, 250)); // sampling RSS every 250 ms while the parent is stopped
    peak = Math.max(peak, rss(enclave.pid));
    if (Date.now() - t0 > 10_000 && !readLate) readLate = await tailRead(http);
  }
  const readAtEnd = await tailRead(http);
  const arrivedDuringStop = outLines(dir).length;
  parent.signal('SIGCONT');
  await waitForCount(dir, N, 60_000, [enclave, parent]);
  await new Promise((r) => setTimeout(r, 300)); // nothing more (a duplicate) may arrive before the stop
  await stop(enclave, parent);

  const buffered = readAtEnd - readAtStop;
  t.diagnostic(
    `enclave RSS ${(before / 2 ** 20).toFixed(1)} MiB -> peak ${(peak / 2 ** 20).toFixed(1)} MiB; tail read ${buffered} lines (${((buffered * lineBytes) / 2 ** 20).toFixed(1)} MiB) during the stop`,
  );
  assert.equal(arrivedDuringStop, 10_000, 'nothing arrives while the parent is stopped');
  assert.ok(buffered * lineBytes < 4 * 2 ** 20, `tail stopped reading: ${buffered} lines taken in while the parent was stopped`);
  assert.equal(readAtEnd, readLate, 'and it stayed stopped (no creeping)');
  assert.ok(peak - before < 64 * 2 ** 20, `enclave RSS grew by ${((peak - before) / 2 ** 20).toFixed(1)} MiB`);
  assertDelivered(dir, N, lineBytes);
});
