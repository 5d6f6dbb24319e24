// Scenario tests on the real agent: tail -> stdout while a writer process writes and rotates.
// Each asserts the exact set of lines that came out (nothing lost, nothing repeated).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineWatcher, sameLines } from './harness.js';
import { numbered } from '../../helpers/lines.js';
import { lines, settle, started, startAgent, stop, tailConfig, tempDir } from './cli.js';
import { runWriter } from '../../helpers/writer.js';

test('CLI: rename + create under load', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const path = join(dir, 'app.log');
  writeFileSync(path, '');
  const a = startAgent(t, dir, tailConfig(dir, { path }));
  await started(a);
  const N = 40_000;
  const seen = lineWatcher(() => a.stdout);
  await runWriter({ path, first: 0, total: N, everyLines: 10_000, mode: 'rename', lateWrites: 10 }, { beforeRotate: (first) => seen(first) });
  await lines(a, N);
  await settle(400);
  await stop(a);
  assert.equal(sameLines(a.stdout, numbered('L', 0, N)), undefined);
  // Per rotation at debug; at info one summary (here at the stop, the period being 60 s).
  assert.equal(a.logs().filter((l) => String(l.msg).startsWith('file rotated')).length, 0);
  const summaries = a.logs().filter((l) => String(l.msg).startsWith('rotation summary'));
  assert.equal(summaries.length, 1);
  assert.equal(summaries[0]!.rotated, 3);
});

test('CLI: copytruncate under load', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const path = join(dir, 'app.log');
  writeFileSync(path, '');
  const a = startAgent(t, dir, tailConfig(dir, { path }));
  await started(a);
  const N = 40_000;
  const seen = lineWatcher(() => a.stdout);
  await runWriter({ path, first: 0, total: N, everyLines: 10_000, mode: 'copytruncate' }, { beforeRotate: (first) => seen(first) });
  await lines(a, N);
  await settle(400);
  await stop(a);
  assert.equal(sameLines(a.stdout, numbered('L', 0, N)), undefined);
});

test('CLI: plain truncation restarts at the new start', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const path = join(dir, 'app.log');
  writeFileSync(path, '');
  const a = startAgent(t, dir, tailConfig(dir, { path }));
  await started(a);
  await runWriter({ path, first: 0, total: 3000 });
  await lines(a, 3000);
  truncateSync(path, 0);
  await runWriter({ path, first: 3000, total: 500, prefix: 'L' });
  await lines(a, 3500);
  await settle(300);
  await stop(a);
  assert.equal(sameLines(a.stdout, numbered('L', 0, 3500)), undefined);
});

test('CLI: a file deleted before it was read is read to its end', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const path = join(dir, 'app.log');
  const want = numbered('D', 0, 100_000);
  writeFileSync(path, `${want.join('\n')}\n`);
  // Small buffers and an unread stdout pipe: the agent is blocked long before the end of the file.
  const a = startAgent(t, dir, tailConfig(dir, { path, read_from_head: true }, { inputLimit: '64KiB', outputLimit: '64KiB', logLevel: 'debug' }));
  a.child.stdout!.pause();
  await started(a);
  await settle(300);
  unlinkSync(path);
  await settle(200);
  a.child.stdout!.resume();
  await lines(a, want.length);
  await settle(300);
  await stop(a);
  assert.equal(sameLines(a.stdout, want), undefined);
  const del = a.logs().find((l) => l.msg === 'file deleted: reading it to its end'); // at debug
  assert.ok(del && Number(del.offset) < Buffer.byteLength(want.join('\n')) / 2, `deleted while far from its end (${del?.offset})`);
});

test('CLI: a new file matching the glob is read from its head; copies made by rotation are not', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  writeFileSync(join(dir, 'old.log'), 'before start\n');
  const a = startAgent(t, dir, tailConfig(dir, { path: join(dir, '*.log'), exclude_path: '*.1.log' }));
  await started(a);
  writeFileSync(join(dir, 'new.log'), `${numbered('N', 0, 500).join('\n')}\n`);
  writeFileSync(join(dir, 'new.1.log'), 'excluded\n');
  copyFileSync(join(dir, 'new.log'), join(dir, 'new.txt'));
  await lines(a, 500);
  await settle(300);
  await stop(a);
  assert.equal(sameLines(a.stdout, numbered('N', 0, 500)), undefined);
});

test('CLI: copytruncate, then exactly as many bytes as before, then silence: the new lines arrive', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const path = join(dir, 'app.log');
  writeFileSync(path, '');
  const a = startAgent(t, dir, tailConfig(dir, { path }));
  await started(a);
  const first = numbered('A', 0, 100);
  appendFileSync(path, `${first.join('\n')}\n`);
  await lines(a, 100);
  // The same size again: the offset equals the new size, so only the content says it changed.
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
  const second = numbered('B', 0, 100);
  appendFileSync(path, `${second.join('\n')}\n`);
  await lines(a, 200, 10_000);
  await settle(300);
  await stop(a);
  assert.equal(sameLines(a.stdout, [...first, ...second]), undefined);
});
