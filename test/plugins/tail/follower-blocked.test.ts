// Rotations while downstream is full: reading waits (the file is the buffer), but rotations and
// truncations are still noticed, so several of them in a row lose nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, copyFile, readFile, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Follower } from '../../../plugins/tail/tail-follower.js';
import { FakeSink, follower, sameLines, tempDir } from './harness.js';
import { numbered } from '../../helpers/lines.js';
import { waitFor } from '../../helpers/wait.js';

/** Wait until the follower holds the file now at `path` open (it noticed the rotation). */
async function opened(f: Follower, path: string): Promise<void> {
  const st = await stat(path, { bigint: true });
  await waitFor(() => f.byPath.get(path)?.key === `${st.dev}:${st.ino}`, { what: `follower opened the new ${path}` });
}

/** Wait until the follower knows the first bytes of the file at `path` (its fingerprint). */
async function fingerprinted(f: Follower, path: string): Promise<void> {
  const head = (await readFile(path)).subarray(0, 256);
  await waitFor(() => f.byPath.get(path)?.head.equals(head) === true, { what: `fingerprint of ${path}` });
}

test('three renames while blocked: every generation is read, in order', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, '');
  const sink = new FakeSink();
  sink.fullAfter = 1;
  const f = follower(dir, sink, { path, readSize: 8192, maxLine: 1024, rotateWaitMs: 100 });
  await f.start();
  const want: string[] = [];
  for (let g = 0; g < 4; g++) {
    await appendFile(path, `${numbered('L', g * 1000, (g + 1) * 1000).join('\n')}\n`);
    want.push(...numbered('L', g * 1000, (g + 1) * 1000));
    if (g === 0) await waitFor(() => sink.chunks.length === 1, { what: 'first chunk, then blocked' });
    if (g < 3) {
      await rename(path, `${path}.${3 - g}`);
      await writeFile(path, '');
      await opened(f, path);
    }
  }
  assert.ok(sink.lines().length < 1000, 'still blocked');
  sink.release();
  await waitFor(() => sink.lines().length >= want.length, { what: 'all generations', timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(sink.lines(), want);
});

test('three copytruncates while blocked: each generation is recovered from its copy', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, '');
  const sink = new FakeSink();
  sink.fullAfter = 1;
  const f = follower(dir, sink, { path, readSize: 8192, maxLine: 1024, rotateWaitMs: 100 });
  await f.start();
  const want: string[] = [];
  for (let g = 0; g < 4; g++) {
    await appendFile(path, `${numbered('L', g * 1000, (g + 1) * 1000).join('\n')}\n`);
    want.push(...numbered('L', g * 1000, (g + 1) * 1000));
    if (g === 0) await waitFor(() => sink.chunks.length === 1, { what: 'first chunk, then blocked' });
    await fingerprinted(f, path);
    if (g < 3) {
      await copyFile(path, `${path}.${g + 1}`);
      await truncate(path, 0);
    }
  }
  assert.ok(sink.lines().length < 1000, 'still blocked');
  sink.release();
  await waitFor(() => sink.lines().length >= want.length, { what: `all generations (have ${sink.lines().length})`, timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(sameLines(sink.lines(), want), undefined);
  assert.deepEqual(sink.lines(), want); // and in order
  assert.equal(sink.c('copytruncate_recovered'), 3);
});
