/**
 * State that survives mistakes: a run that does not find a known file keeps its offset (until
 * offsets_expire), and a file's src is derived from the file itself, so the same file read
 * again without its offset gets the same src/seq (a downstream high-water mark drops it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileEntry } from '../../../plugins/tail/tail-db.js';
import { FakeSink, follower, tempDir, text } from './harness.js';
import { LINE_BYTES, numbered } from '../../helpers/lines.js';
import { waitFor } from '../../helpers/wait.js';

async function entries(dir: string): Promise<FileEntry[]> {
  return Object.values((JSON.parse(await readFile(join(dir, 'offsets.json'), 'utf8')) as { files: Record<string, FileEntry> }).files);
}

/** One run over `path`: start, wait for `lines` lines (all settled), close. */
async function run(dir: string, path: string, lines: number, o: Parameters<typeof follower>[2] = {}): Promise<FakeSink> {
  const s = new FakeSink();
  const f = follower(dir, s, { path, ...o });
  await f.start();
  await waitFor(() => s.lines().length >= lines && s.allSettled(), { what: `${lines} lines settled` });
  await f.close();
  return s;
}

test('a run whose path finds nothing keeps the offsets of the files it does not see', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, text(numbered('L', 0, 100)));
  const s1 = await run(dir, path, 100);
  await run(dir, join(dir, 'wrong.log'), 0); // the mistake: the same state, another path
  const [kept] = await entries(dir);
  assert.equal(kept?.offset, 100 * LINE_BYTES);
  assert.ok(typeof kept.lost === 'number', 'marked as not found');
  await appendFile(path, text(numbered('L', 100, 150)));
  const s3 = await run(dir, path, 50);
  assert.deepEqual(s3.lines(), numbered('L', 100, 150)); // not the whole file again
  assert.equal(s3.records()[0]!.meta.src, s1.records()[0]!.meta.src);
  assert.equal((await entries(dir))[0]!.lost, undefined); // followed again
});

test('the offset of a file not found expires offsets_expire after the first start that missed it', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, 'one\n');
  await run(dir, path, 1);
  const wrong = join(dir, 'wrong.log');
  await run(dir, wrong, 0, { offsetsExpireMs: 60_000 });
  await run(dir, wrong, 0, { offsetsExpireMs: 60_000 });
  assert.equal((await entries(dir)).length, 1); // not yet
  await new Promise((r) => setTimeout(r, 20)); // the point: older than offsets_expire below
  await run(dir, wrong, 0, { offsetsExpireMs: 10 });
  assert.deepEqual(await entries(dir), []);
});

test('src and seq come from the file: read again without its state, the same lines get the same src/seq', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, text(numbered('L', 0, 300)));
  const s1 = await run(dir, path, 300);
  await rm(join(dir, 'offsets.json'));
  const s2 = await run(dir, path, 300);
  const ids = (s: FakeSink) => s.records().map((r) => `${r.meta.src}/${r.meta.seq}`);
  assert.deepEqual(ids(s2), ids(s1));
  // Another file with the same content has another src (device:inode, birth time).
  const other = join(dir, 'other.log');
  await writeFile(other, text(numbered('L', 0, 300)));
  const s3 = await run(dir, other, 300);
  assert.notEqual(s3.records()[0]!.meta.src, s1.records()[0]!.meta.src);
});

test('a src saved before the first line was whole is derived again at a restart (no record left under it)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, 'abc'); // no newline yet: nothing leaves, the state is saved anyway
  const s1 = new FakeSink();
  const f1 = follower(dir, s1, { path });
  await f1.start();
  await waitFor(async () => (await entries(dir).catch(() => []))[0]?.sidFixed === false, { what: 'the state with a provisional src' });
  await f1.close();
  assert.equal(s1.lines().length, 0);
  await appendFile(path, 'def\nghi\n');
  const s2 = await run(dir, path, 2);
  await rm(join(dir, 'offsets.json'));
  const s3 = await run(dir, path, 2);
  assert.deepEqual(s2.lines(), ['abcdef', 'ghi']);
  assert.deepEqual(
    s3.records().map((r) => [r.meta.src, r.meta.seq]),
    s2.records().map((r) => [r.meta.src, r.meta.seq]),
  );
});

test('a state file written before srcs were derived from files resumes with its own src, at its offset', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  const first = numbered('L', 0, 100);
  await writeFile(path, text(first));
  // What the previous version wrote: a random third part, no sidFixed, no lost.
  const s1 = await run(dir, path, 100);
  const [e] = await entries(dir);
  const st = await stat(path, { bigint: true });
  const legacy = { ...e!, sid: `${st.dev}:${st.ino}:5eed0ff1ce00` } as Partial<FileEntry>;
  delete legacy.sidFixed;
  await writeFile(join(dir, 'offsets.json'), JSON.stringify({ version: 1, savedAt: Date.now(), files: { [`${st.dev}:${st.ino}`]: legacy } }));
  assert.equal(s1.lines().length, 100);
  await appendFile(path, text(numbered('L', 100, 120)));
  const s2 = await run(dir, path, 20);
  assert.deepEqual(s2.lines(), numbered('L', 100, 120));
  assert.equal(s2.records()[0]!.meta.src, `${st.dev}:${st.ino}:5eed0ff1ce00:0`);
  assert.equal(s2.records()[0]!.meta.seq, 101 * LINE_BYTES);
});
