import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, copyFile, readFile, rename, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileEntry } from '../../../plugins/tail/tail-db.js';
import { FakeSink, follower, sameLines, tempDir } from './harness.js';
import { numbered } from '../../helpers/lines.js';
import { waitFor } from '../../helpers/wait.js';

async function state(dir: string): Promise<{ files: Record<string, FileEntry> }> {
  return JSON.parse(await readFile(join(dir, 'offsets.json'), 'utf8'));
}

/** The state file once `ok(state)` holds (it is written every stateIntervalMs, atomically). */
async function stateWhen(dir: string, ok: (st: { files: Record<string, FileEntry> }) => boolean, what: string): Promise<void> {
  await waitFor(async () => ok(await state(dir).catch(() => ({ files: {} }))), { what: `the state file to hold ${what}` });
}

/** Before a stop: every chunk settled, so the stop commits the end of what was read. */
const settled = (s: FakeSink) => waitFor(() => s.allSettled(), { what: 'every chunk settled' });

test('only settled chunks are committed, in order; a restart resumes at the committed offset with the same src/seq', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  const all = numbered('L', 0, 4000);
  await writeFile(path, `${all.join('\n')}\n`);
  const s1 = new FakeSink();
  s1.autoSettle = false;
  const f1 = follower(dir, s1, { path, readSize: 32 * 1024, maxLine: 1024 });
  await f1.start();
  await waitFor(() => s1.lines().length === all.length, { what: 'all lines once' });
  assert.ok(s1.chunks.length >= 5);
  s1.chunks[3]!.settle(); // out of order: no effect yet
  s1.chunks[0]!.settle();
  s1.chunks[1]!.settle();
  const end1 = s1.chunks[1]!.records.at(-1)!.meta.seq as number;
  await stateWhen(dir, (st) => Object.values(st.files)[0]?.offset === end1, `offset ${end1}`);
  const st1 = await state(dir);
  assert.equal(Object.values(st1.files)[0]!.offset, end1);
  await f1.close();
  // In-flight chunks settling after stop are written at once (synchronously).
  s1.chunks[2]!.settle();
  const end2 = s1.chunks[3]!.records.at(-1)!.meta.seq as number;
  assert.equal(Object.values((await state(dir)).files)[0]!.offset, end2);

  const s2 = new FakeSink();
  const f2 = follower(dir, s2, { path, readSize: 32 * 1024, maxLine: 1024, readFromHead: false });
  await f2.start();
  const rest = s1.chunks.slice(4).flatMap((c) => c.records);
  await waitFor(() => s2.lines().length === rest.length, { what: 'the unsettled rest' });
  assert.deepEqual(
    s2.records().map((r) => [r.body, r.meta.src, r.meta.seq]),
    rest.map((r) => [r.body, r.meta.src, r.meta.seq]),
  );
});

test('a file rotated while stopped is finished, then the new file is read from its head', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, `${numbered('A', 0, 1000).join('\n')}\n`);
  const s1 = new FakeSink();
  const f1 = follower(dir, s1, { path, readFromHead: true });
  await f1.start();
  await waitFor(() => s1.lines().length === 1000, { what: 'first run' });
  await settled(s1);
  await f1.close();
  await appendFile(path, `${numbered('A', 1000, 1500).join('\n')}\n`); // written after we stopped
  await rename(path, `${path}.1`);
  await writeFile(path, `${numbered('B', 0, 700).join('\n')}\n`);
  const s2 = new FakeSink();
  const f2 = follower(dir, s2, { path, readFromHead: false, rotateWaitMs: 50 });
  await f2.start();
  await waitFor(() => s2.lines().length >= 1200, { what: 'second run' });
  await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
  const want = [...numbered('A', 1000, 1500), ...numbered('B', 0, 700)];
  assert.deepEqual(s2.lines(), want); // in order: old file first
  await waitFor(() => s2.c('files_closed') === 1, { what: 'old file closed' });
  await stateWhen(dir, (st) => Object.keys(st.files).length === 1, 'one file');
  assert.equal(Object.keys((await state(dir)).files).length, 1); // the finished file left the state
});

test('a file copytruncated while stopped: the rest comes from the copy, then the new content', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, `${numbered('A', 0, 1000).join('\n')}\n`);
  const s1 = new FakeSink();
  const f1 = follower(dir, s1, { path });
  await f1.start();
  await waitFor(() => s1.lines().length === 1000, { what: 'first run' });
  await settled(s1);
  await f1.close();
  await appendFile(path, `${numbered('A', 1000, 1200).join('\n')}\n`);
  await copyFile(path, `${path}.1`);
  await truncate(path, 0);
  await appendFile(path, `${numbered('B', 0, 300).join('\n')}\n`);
  const s2 = new FakeSink();
  const f2 = follower(dir, s2, { path, readFromHead: false, rotateWaitMs: 50 });
  await f2.start();
  await waitFor(() => s2.lines().length >= 500, { what: 'second run' });
  await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
  assert.deepEqual(s2.lines(), [...numbered('A', 1000, 1200), ...numbered('B', 0, 300)]);
  const srcs = [...new Set(s2.records().map((r) => r.meta.src))];
  assert.equal(srcs.length, 2);
  assert.equal(srcs[0], s1.records()[0]!.meta.src); // the copy continues the old stream
});

test('inode reuse (same dev:ino, other first bytes) reads the new file from its head', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, 'first file line\n');
  const s1 = new FakeSink();
  const f1 = follower(dir, s1, { path });
  await f1.start();
  await waitFor(() => s1.lines().length === 1, { what: 'first run' });
  await settled(s1);
  await f1.close();
  // Same inode, different content and longer than the old offset: only the fingerprint tells.
  await writeFile(path, 'another file entirely, much longer than before\nsecond\n');
  const s2 = new FakeSink();
  const f2 = follower(dir, s2, { path, readFromHead: false });
  await f2.start();
  await waitFor(() => s2.lines().length === 2, { what: 'second run' });
  assert.deepEqual(s2.lines(), ['another file entirely, much longer than before', 'second']);
  assert.notEqual(s2.records()[0]!.meta.src, s1.records()[0]!.meta.src);
});

test('truncation generation is persisted: after a restart the src keeps its generation', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, 'one\ntwo\n');
  const s1 = new FakeSink();
  const f1 = follower(dir, s1, { path });
  await f1.start();
  await waitFor(() => s1.lines().length === 2, { what: 'first' });
  await truncate(path, 0);
  await appendFile(path, 'three\n');
  await waitFor(() => s1.lines().length === 3, { what: 'after truncation' });
  await settled(s1);
  await f1.close();
  await appendFile(path, 'four\n');
  const s2 = new FakeSink();
  const f2 = follower(dir, s2, { path });
  await f2.start();
  await waitFor(() => s2.lines().length === 1, { what: 'second run' });
  assert.deepEqual(s2.lines(), ['four']);
  assert.equal(s2.records()[0]!.meta.src, s1.records()[2]!.meta.src);
  assert.match(String(s2.records()[0]!.meta.src), /:1$/);
  assert.equal(s2.records()[0]!.meta.seq, 11);
});

test('first start without read_from_head skips old content; a restart reads files created while stopped from their head', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.log'), 'old\n');
  const s1 = new FakeSink();
  const f1 = follower(dir, s1, { readFromHead: false });
  await f1.start();
  await new Promise((r) => setTimeout(r, 150)); // the point: nothing is read for a while
  assert.equal(s1.lines().length, 0);
  await f1.close();
  await new Promise((r) => setTimeout(r, 20)); // b.log is born after the stop (birth time vs the state's time)
  await writeFile(join(dir, 'b.log'), 'born while stopped\n');
  const s2 = new FakeSink();
  const f2 = follower(dir, s2, { readFromHead: false });
  await f2.start();
  await waitFor(() => s2.lines().length === 1, { what: 'new file' });
  await new Promise((r) => setTimeout(r, 150)); // nothing more may arrive
  assert.equal(sameLines(s2.lines(), ['born while stopped']), undefined);
});

test('a file born just after the last state write is read from its head (file times lag Date.now())', async (t) => {
  // File times come from the kernel's coarse clock, up to a tick (~4 ms) behind Date.now(): a
  // file created right after a stop's state write can have a birth time before the state's
  // savedAt. Judged by savedAt it looked older than the state and was followed from its end
  // (its lines lost: the restart cases above did so 2 runs in 3 when stopped right after
  // settling). The lag is made explicit here: savedAt after the birth, the state file's own
  // time (same clock as the birth) before it.
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.log'), 'old\n');
  const s1 = new FakeSink();
  const f1 = follower(dir, s1);
  await f1.start();
  await waitFor(() => s1.lines().length === 1, { what: 'first run' });
  await settled(s1);
  await f1.close();
  const stateFile = join(dir, 'offsets.json');
  const written = await stat(stateFile, { bigint: true });
  await new Promise((r) => setTimeout(r, 20)); // the point: born clearly after the state file's time
  await writeFile(join(dir, 'b.log'), 'born after the stop\n');
  const born = (await stat(join(dir, 'b.log'))).birthtimeMs;
  const st = JSON.parse(await readFile(stateFile, 'utf8')) as { savedAt: number };
  st.savedAt = Math.ceil(born) + 3;
  await writeFile(stateFile, JSON.stringify(st));
  await utimes(stateFile, Number(written.atimeNs) / 1e9, Number(written.mtimeNs) / 1e9);
  const s2 = new FakeSink();
  const f2 = follower(dir, s2, { readFromHead: false });
  await f2.start();
  await waitFor(() => s2.lines().length === 1, { what: 'b.log from its head' });
  assert.deepEqual(s2.lines(), ['born after the stop']);
});

test('a file that appears while the agent runs is in the state file before it is followed: a crash right after finds it again', async (t) => {
  // The agent lags (downstream full): the new app.log waits behind the old one, unread, so no
  // record of it leaves (which would save the state). A state written only at the next coalesced
  // write (here a minute later) would not know it: killed now and the file rotated away before
  // the restart, its lines were lost, although the agent had seen it.
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, `${numbered('A', 0, 1000).join('\n')}\n`);
  const s1 = new FakeSink();
  const f1 = follower(dir, s1, { path, readSize: 16 * 1024, stateIntervalMs: 60_000, rotateWaitMs: 50 });
  await f1.start();
  await waitFor(() => s1.lines().length === 1000, { what: 'the first lines' });
  s1.fullAfter = 1;
  await appendFile(path, `${numbered('A', 1000, 3000).join('\n')}\n`);
  await waitFor(() => s1.full, { what: 'downstream full' });
  await rename(path, `${path}.1`);
  await writeFile(path, `${numbered('B', 0, 500).join('\n')}\n`);
  await waitFor(() => s1.c('files_opened') === 2, { what: 'the new app.log followed' });
  // SIGKILL now: the state on disk is all a restart has.
  const crashed = join(dir, 'crashed.json');
  await copyFile(join(dir, 'offsets.json'), crashed);
  await f1.stop();
  assert.ok(
    s1.lines().every((l) => l.startsWith('A')),
    'nothing of the new file was read',
  );
  // Rotated away while the agent is down; the next file comes.
  await rename(path, `${path}.2`);
  await writeFile(path, `${numbered('C', 0, 500).join('\n')}\n`);
  const s2 = new FakeSink();
  const f2 = follower(dir, s2, { path, readFromHead: false, rotateWaitMs: 50, statePath: crashed });
  await f2.start();
  const want = [...numbered('B', 0, 500), ...numbered('C', 0, 500)];
  const got = () => s2.lines().filter((l) => !l.startsWith('A'));
  await waitFor(() => got().length >= want.length, { what: 'the new files', timeoutMs: 5000 }).catch(() => undefined);
  assert.equal(sameLines(got(), want), undefined);
  // The old file is finished from its committed offset: its unread end arrives too.
  await waitFor(() => s2.lines().includes(numbered('A', 2999, 3000)[0]!), { what: 'the end of the old file' });
});
