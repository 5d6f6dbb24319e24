// Scenario tests on the real agent: tail -> stdout while a writer process writes and rotates.
// Each asserts the exact set of lines that came out (nothing lost, nothing repeated).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diff, numbered, sameLines } from '../harness.js';
import { lines, settle, started, startAgent, stop, tailConfig, tempDir } from '../cli.js';
import { runWriter } from '../writer.js';

for (let k = 0; k < 6; k++) test('CLI: copytruncate under load ' + k, async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const path = join(dir, 'app.log');
  writeFileSync(path, '');
  const a = startAgent(t, dir, tailConfig(dir, { path }));
  await started(a);
  const N = 40_000;
  await runWriter({ path, to: N, rotateEvery: 10_000, mode: 'copytruncate', afterRotateMs: 300 });
  await lines(a, N).catch(() => undefined);
  await settle(400);
  await stop(a);
  const d = diff(a.stdout, numbered('L', 0, N));
  if (d.missing.length || d.dup.length) console.log('MISSING', d.missing.length, d.missing[0]?.slice(0, 8), d.missing.at(-1)?.slice(0, 8), 'DUP', d.dup.length, d.dup[0]?.slice(0,8), '\n' + a.stderr.join('\n'));
  assert.equal(sameLines(a.stdout, numbered('L', 0, N)), undefined);
});

