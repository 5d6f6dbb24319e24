// Fan-in with real agents: three enclave agents (tail -> vsock-forward) into one parent
// (vsock -> rotated-file) with a small peer_buffer_limit: every line of every enclave lands once,
// and the parent's /metrics has each enclave's series under its own peer label.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkLines } from '../helpers/checker.js';
import { numberedText } from '../helpers/lines.js';
import { freePort, httpGet } from '../helpers/net.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { enclaveConfig, outLines, start, stop, waitForCount } from './link.js';

const LINE_BYTES = 24;

test('three enclave agents into one parent: every line once, per-peer series in /metrics', async (t) => {
  const dir = tempDir(t, 'qlog-fanin-');
  const uri = `unix://${join(dir, 'parent.sock')}`;
  const http = await freePort();
  const N = 20_000;
  const names = ['e0', 'e1', 'e2'];
  for (const [i, n] of names.entries()) appendFileSync(join(dir, `${n}.log`), numberedText(`E${i}-`, 1, N / 2 + 1, LINE_BYTES));
  const parent = start(
    t,
    dir,
    writeConfig(
      dir,
      'parent.yaml',
      `
service:
  state_dir: ${join(dir, 'state-parent')}
  grace: 2s
  http_listen: 127.0.0.1:${http}
pipeline:
  inputs:
    - name: vsock
      listen: ${uri}
      peer_buffer_limit: 64KiB
  outputs:
    - name: rotated-file
      match: '*'
      workspace: ${join(dir, 'out')}
      file: app.log
      rotate_size: 512MB
`,
    ),
  );
  await parent.waitForLine(/listening on/, { stream: 'stderr' });
  const enclaves = names.map((n) => start(t, dir, enclaveConfig(dir, { mode: 'connect', uri }, n, `${n}.log`)));
  await waitForCount(dir, (3 * N) / 2, 60_000, [parent, ...enclaves]);
  for (const [i, n] of names.entries()) appendFileSync(join(dir, `${n}.log`), numberedText(`E${i}-`, N / 2 + 1, N + 1, LINE_BYTES));
  await waitForCount(dir, 3 * N, 60_000, [parent, ...enclaves]);

  const metrics = (await httpGet(`http://127.0.0.1:${http}/metrics`)).body;
  const records = [...metrics.matchAll(/^qlog_input_peer_records_in\{id="vsock\.0",plugin="vsock",peer="(unix:[^"]+)"\} (\d+)$/gm)];
  assert.deepEqual(
    records.map((m) => Number(m[2])),
    [N, N, N],
    metrics,
  );
  assert.equal(new Set(records.map((m) => m[1])).size, 3, 'one label per enclave connection');
  assert.match(metrics, /^# TYPE qlog_input_peer_inflight_bytes gauge$/m);
  assert.match(metrics, /^# TYPE qlog_input_peer_paused_seconds counter$/m);
  await stop(...enclaves, parent);

  const lines = outLines(dir);
  assert.equal(lines.length, 3 * N);
  for (const i of names.keys()) {
    const prefix = `E${i}-`;
    const r = checkLines(
      lines.filter((l) => l.startsWith(prefix)),
      prefix,
      1,
      N,
      LINE_BYTES,
    );
    assert.deepEqual(
      { lost: r.lost, duplicated: r.duplicated, altered: r.altered, outOfOrder: r.outOfOrder },
      { lost: 0, duplicated: 0, altered: 0, outOfOrder: 0 },
      r.firstProblem,
    );
  }
});
