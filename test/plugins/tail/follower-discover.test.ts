import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, rename, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeSink, follower, tempDir } from './harness.js';
import { waitFor } from '../../helpers/wait.js';

test('ignore_older: an old file is skipped; once written again it is followed from where it was', async (t) => {
  const dir = await tempDir(t);
  const old = join(dir, 'old.log');
  await writeFile(old, 'ancient\n');
  const past = new Date(Date.now() - 3_600_000);
  await utimes(old, past, past);
  await writeFile(join(dir, 'fresh.log'), 'fresh\n');
  const sink = new FakeSink();
  const f = follower(dir, sink, { ignoreOlderMs: 60_000 });
  await f.start();
  await waitFor(() => sink.lines().length === 1, { what: 'fresh' });
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(sink.lines(), ['fresh']);
  assert.equal(f.files.size, 1);
  await appendFile(old, 'revived\n');
  await waitFor(() => sink.lines().length === 2, { what: 'revived line' });
  assert.deepEqual(sink.lines(), ['fresh', 'revived']);
});

test('a symlinked file is followed; writes to its target are seen through the target directory', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'real'));
  await mkdir(join(dir, 'links'));
  const target = join(dir, 'real', 'svc-123.log');
  await writeFile(target, 'one\n');
  await symlink(target, join(dir, 'links', 'svc.log'));
  const sink = new FakeSink();
  const f = follower(dir, sink, { path: join(dir, 'links', '*.log'), refreshMs: 60_000 });
  await f.start();
  await waitFor(() => sink.lines().length === 1, { what: 'first line' });
  await appendFile(target, 'two\n');
  await waitFor(() => sink.lines().length === 2, { what: 'append seen without a refresh pass', timeoutMs: 2000 });
  assert.equal(sink.records()[1]!.meta.path, join(dir, 'links', 'svc.log'));
});

test('a file renamed to another followed name keeps its stream (no re-read)', async (t) => {
  const dir = await tempDir(t);
  const a = join(dir, 'a.log');
  await writeFile(a, 'x1\nx2\n');
  const sink = new FakeSink();
  const f = follower(dir, sink);
  await f.start();
  await waitFor(() => sink.lines().length === 2, { what: 'lines' });
  await rename(a, join(dir, 'b.log'));
  await appendFile(join(dir, 'b.log'), 'x3\n');
  await waitFor(() => sink.lines().length === 3, { what: 'append after rename' });
  await new Promise((r) => setTimeout(r, 500)); // > rotate_wait: it must not be closed
  await appendFile(join(dir, 'b.log'), 'x4\n');
  await waitFor(() => sink.lines().length === 4, { what: 'still followed' });
  assert.deepEqual(sink.lines(), ['x1', 'x2', 'x3', 'x4']);
  assert.equal(new Set(sink.records().map((r) => r.meta.src)).size, 1);
  assert.equal(sink.records()[3]!.meta.path, join(dir, 'b.log'));
  assert.equal(sink.c('files_closed'), 0);
});

test('watcher auto picks inotify on a local file system; many files are served round robin', async (t) => {
  const dir = await tempDir(t);
  const sink = new FakeSink();
  const f = follower(dir, sink, { watcher: 'auto', readSize: 4096, maxLine: 1024 });
  await f.start();
  assert.equal(f.mode, 'inotify');
  const body = (k: number) => `${Array.from({ length: 2000 }, (_, i) => `f${k} line ${i}`).join('\n')}\n`;
  await Promise.all(Array.from({ length: 20 }, (_, k) => writeFile(join(dir, `f${k}.log`), body(k))));
  await waitFor(() => sink.lines().length === 40_000, { what: 'all files' });
  // Round robin: the first chunks come from several files, not one file to its end first.
  const firstTags = new Set(sink.chunks.slice(0, 20).map((c) => c.tag));
  assert.ok(firstTags.size > 3, `first chunks from ${firstTags.size} files`);
});
