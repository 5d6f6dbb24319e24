/**
 * Rotation when `path` matches the rotated names too (`app.log*`, as docs/delivery.md advises
 * to lose nothing across restarts): every line exactly once, whether the rotated file is a
 * renamed one or a copytruncate copy, and however the copy shows up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { followApp, sameLines, shiftRotated, text } from './harness.js';
import { numbered } from '../../helpers/lines.js';
import { waitFor } from '../../helpers/wait.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const globFollower = (t: import('node:test').TestContext, o: { copyWaitMs?: number } = {}) =>
  followApp(t, { pattern: (p) => `${p}*`, rotateWaitMs: 100, ...o });

for (const mode of ['rename', 'copytruncate'] as const) {
  test(`app.log* with ${mode} rotation: each line once, the new file is not held back by the old one`, async (t) => {
    const { path, sink } = await globFollower(t);
    for (let g = 0; g < 4; g++) {
      appendFileSync(path, text(numbered('L', g * 100, g * 100 + 50)));
      await waitFor(() => sink.lines().length >= g * 100 + 50, { what: `generation ${g} read (have ${sink.lines().length})`, timeoutMs: 5000 });
      appendFileSync(path, text(numbered('L', g * 100 + 50, g * 100 + 100))); // not read yet when it rotates
      shiftRotated(path);
      if (mode === 'copytruncate') {
        copyFileSync(path, `${path}.1`);
        truncateSync(path, 0);
      } else {
        renameSync(path, `${path}.1`);
        writeFileSync(path, '');
      }
    }
    appendFileSync(path, text(numbered('L', 400, 450)));
    await waitFor(() => sink.lines().length >= 450, { what: `all lines (have ${sink.lines().length})`, timeoutMs: 5000 });
    await sleep(1500); // a refresh or two: nothing is read again
    assert.equal(sameLines(sink.lines(), numbered('L', 0, 450)), undefined);
    if (mode === 'copytruncate') assert.equal(sink.c('copytruncate_recovered'), 4);
  });
}

test('app.log*: a copy noticed before the truncation waits for it, then supplies the rest of the old content', async (t) => {
  const { path, sink } = await globFollower(t);
  sink.fullAfter = 1;
  appendFileSync(path, text(numbered('L', 0, 2000)));
  await waitFor(() => sink.chunks.length === 1, { what: 'first chunk' });
  copyFileSync(path, `${path}.1`);
  await waitFor(() => sink.logs.some((l) => l.msg.includes('waiting for its truncation')), { what: 'the copy noticed and held back' });
  await sleep(300);
  truncateSync(path, 0);
  appendFileSync(path, text(numbered('L', 2000, 2100)));
  sink.release();
  await waitFor(() => sink.lines().length >= 2100, { what: `all lines (have ${sink.lines().length})`, timeoutMs: 5000 });
  await sleep(1500);
  assert.equal(sameLines(sink.lines(), numbered('L', 0, 2100)), undefined);
  assert.equal(sink.c('copytruncate_recovered'), 1);
});

test('app.log*: a copy created empty and filled later is recognised at its first read', async (t) => {
  const { path, sink } = await globFollower(t);
  appendFileSync(path, text(numbered('L', 0, 100)));
  await waitFor(() => sink.lines().length >= 100, { what: 'first lines' });
  writeFileSync(`${path}.1`, ''); // created (and followed, empty) before it is filled
  await waitFor(() => sink.logs.some((l) => l.msg.startsWith('following file') && String((l.obj as { path: string }).path).endsWith('.1')), {
    what: 'the empty copy followed',
  });
  appendFileSync(path, text(numbered('L', 100, 150)));
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
  appendFileSync(path, text(numbered('L', 150, 200)));
  await waitFor(() => sink.lines().length >= 200, { what: `all lines (have ${sink.lines().length})`, timeoutMs: 5000 });
  await sleep(1500);
  assert.equal(sameLines(sink.lines(), numbered('L', 0, 200)), undefined);
});

test('app.log*: a file that starts like the followed one but is never followed by a truncation is read as a file of its own after copyWaitMs', async (t) => {
  const { path, sink } = await globFollower(t, { copyWaitMs: 800 });
  appendFileSync(path, text(numbered('L', 0, 100)));
  await waitFor(() => sink.lines().length >= 100, { what: 'first lines' });
  copyFileSync(path, `${path}.bak`); // `cp`, no truncation: a second file with the same lines
  await waitFor(() => sink.logs.some((l) => l.msg.includes('waiting for its truncation')), { what: 'held back first' });
  await sleep(300);
  assert.equal(sink.lines().length, 100, 'not read while it waits');
  await waitFor(() => sink.lines().length >= 200, { what: `read after the wait (have ${sink.lines().length})`, timeoutMs: 5000 });
  const want = numbered('L', 0, 100);
  assert.equal(sameLines(sink.lines(), [...want, ...want]), undefined);
});

test('app.log*: the file itself, read blind after a truncation, is never taken for a copy of the younger files that start like it', async (t) => {
  const { path, sink } = await globFollower(t);
  appendFileSync(path, text(numbered('L', 0, 100)));
  await waitFor(() => sink.lines().length >= 100, { what: 'first lines' });
  truncateSync(path, 0); // plain truncation, seen while the file is empty: its new head is unknown
  await waitFor(() => sink.c('truncations') === 1, { what: 'truncation seen' });
  await sleep(100);
  // A younger file with the lines app.log is about to get, found first (app.log's head is
  // unknown then: it is followed as a file of its own); then app.log gets them. Read blind,
  // app.log starts like app.log.bak — it must not be held back as a copy of it.
  const g1 = numbered('L', 100, 200);
  writeFileSync(`${path}.bak`, text(g1));
  await waitFor(() => sink.lines().length >= 200, { what: `app.log.bak read (have ${sink.lines().length})`, timeoutMs: 3000 });
  appendFileSync(path, text(g1));
  await waitFor(() => sink.lines().length >= 300, { what: `app.log's new lines (have ${sink.lines().length})`, timeoutMs: 3000 });
  appendFileSync(path, text(numbered('L', 200, 250)));
  await waitFor(() => sink.lines().length >= 350, { what: `app.log followed on (have ${sink.lines().length})`, timeoutMs: 1000 });
  assert.equal(sameLines(sink.lines(), [...numbered('L', 0, 100), ...g1, ...g1, ...numbered('L', 200, 250)]), undefined);
  assert.ok(!sink.logs.some((l) => l.msg.includes('waiting for its truncation')), 'nothing held back');
});
