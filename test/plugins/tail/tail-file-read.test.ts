/**
 * TailFile.readThenHead: tail's read and the re-read of the file's head in one thread-pool job of
 * the addon (native/read.cc). It must give what read() then checkHead() give, see a head that
 * changed since the file was opened, and keep the fd open until the job is done.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, writeSync, openSync, closeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { HEAD_MAX, TailFile } from '../../../plugins/tail/tail-file.js';
import { tempDir } from '../../helpers/tmp.js';

const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `line ${from + i} ${'x'.repeat(i % 50)}\n`).join('');

test('readThenHead reads what read() reads and compares the head as checkHead() does', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'app.log');
  const text = lines(0, 2000);
  writeFileSync(path, text);
  const f = await TailFile.open(path);
  t.after(() => f.close());
  f.to('follow');
  assert.ok(f.following);
  const scratch = Buffer.alloc(HEAD_MAX);
  for (const offset of [1, 100, 4096, text.length - 10, text.length]) {
    f.startAt(offset);
    const a = Buffer.alloc(64 * 1024);
    const b = Buffer.alloc(64 * 1024);
    const job = f.readThenHead(a, a.length, scratch);
    assert.ok(job, 'the addon is built with readWithHead (npm ci builds native/)');
    const got = await job;
    const n = await f.read(b, b.length);
    assert.equal(got.n, n, `offset ${offset}`);
    assert.ok(a.subarray(0, n).equals(Buffer.from(text).subarray(offset, offset + n)), `offset ${offset}: the bytes at the offset`);
    assert.equal(got.head, await f.checkHead(Buffer.alloc(HEAD_MAX)));
    assert.equal(got.head, 'same');
  }
});

test('readThenHead sees a head replaced after the open (copytruncate, then a rewrite past our offset)', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'app.log');
  writeFileSync(path, lines(0, 500));
  const f = await TailFile.open(path);
  t.after(() => f.close());
  f.to('follow');
  f.startAt(1000);
  const scratch = Buffer.alloc(HEAD_MAX);
  // Truncated and refilled by another generation, longer than our offset.
  const fd = openSync(path, 'r+');
  ftruncateSync(fd, 0);
  writeSync(fd, lines(10_000, 500), 0);
  closeSync(fd);
  const got = await f.readThenHead(Buffer.alloc(8192), 8192, scratch)!;
  assert.ok(got.n > 0);
  assert.equal(got.head, 'changed');
});

test('close() waits for a readThenHead job before it closes the fd', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'app.log');
  writeFileSync(path, lines(0, 50_000));
  const f = await TailFile.open(path);
  f.to('follow');
  f.startAt(1);
  const job = f.readThenHead(Buffer.alloc(4 << 20), 4 << 20, Buffer.alloc(HEAD_MAX))!;
  let done = false;
  void job.then(() => (done = true));
  await f.close();
  assert.equal(done, true, 'the job had finished before close() resolved');
  const got = await job;
  assert.ok(got.n > 0, 'the read used the open fd, not a closed or reused one');
});
