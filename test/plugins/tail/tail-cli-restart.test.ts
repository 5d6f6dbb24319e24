// Restart scenarios on the real agent: offsets are committed when stdout acknowledged, and a
// restart resumes there. The union of both runs' output is every line exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sameLines } from './harness.js';
import { numbered } from '../../helpers/lines.js';
import { lines, settle, started, startAgent, stop, tailConfig, tempDir } from './cli.js';
import { runWriter } from '../../helpers/writer.js';

test('CLI: SIGTERM while a writer is writing, restart: resumes at the committed offset (no loss, no repeat)', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const path = join(dir, 'app.log');
  writeFileSync(path, '');
  const cfg = tailConfig(dir, { path });
  const a = startAgent(t, dir, cfg);
  await started(a);
  const writing = runWriter({ path, first: 0, total: 60_000, sleepEvery: 5 });
  await lines(a, 5000);
  await stop(a); // while the writer is still writing
  const first = [...a.stdout];
  await writing;
  const st = JSON.parse(readFileSync(join(dir, 'state', 'tail.0.offsets.json'), 'utf8'));
  const committed = Object.values(st.files as Record<string, { offset: number }>)[0]!.offset;
  assert.equal(committed, Buffer.byteLength(`${first.join('\n')}\n`), 'the state holds exactly what was printed');
  const b = startAgent(t, dir, cfg);
  await started(b);
  await lines(b, 60_000 - first.length);
  await settle(300);
  await stop(b);
  assert.ok(first.length < 60_000);
  assert.equal(sameLines([...first, ...b.stdout], numbered('L', 0, 60_000)), undefined);
});

test('CLI: rotated while the agent was stopped: the rest of the old file, then the new one', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const path = join(dir, 'app.log');
  writeFileSync(path, `${numbered('A', 0, 1000).join('\n')}\n`);
  const cfg = tailConfig(dir, { path, read_from_head: true });
  const a = startAgent(t, dir, cfg);
  await started(a);
  await lines(a, 1000);
  await stop(a);
  await runWriter({ path, first: 1000, total: 500, prefix: 'A' });
  renameSync(path, `${path}.1`);
  await runWriter({ path, first: 0, total: 700, prefix: 'B' });
  const b = startAgent(t, dir, cfg);
  await started(b);
  await lines(b, 1200);
  await settle(300);
  await stop(b);
  assert.deepEqual(b.stdout, [...numbered('A', 1000, 1500), ...numbered('B', 0, 700)]);
  assert.equal(sameLines([...a.stdout, ...b.stdout], [...numbered('A', 0, 1500), ...numbered('B', 0, 700)]), undefined);
});

test('CLI: SIGHUP reload while a writer is writing: the new pipeline resumes where the old one stopped', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const path = join(dir, 'app.log');
  writeFileSync(path, '');
  const a = startAgent(t, dir, tailConfig(dir, { path }));
  await started(a);
  const writing = runWriter({ path, first: 0, total: 40_000, sleepEvery: 5 });
  await lines(a, 3000);
  a.signal('SIGHUP');
  await a.waitForLine(/reload complete/, { stream: 'stderr', timeoutMs: 15_000 });
  await writing;
  await lines(a, 40_000);
  await settle(300);
  await stop(a);
  assert.equal(sameLines(a.stdout, numbered('L', 0, 40_000)), undefined);
});
