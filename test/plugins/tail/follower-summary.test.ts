/** Rotation logging: each event at debug, one info summary per period, only when something happened. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { followApp, text } from './harness.js';
import { numbered } from '../../helpers/lines.js';
import { waitFor } from '../../helpers/wait.js';

test('rotations are logged at debug, summed up at info once per period, and nothing is logged for a quiet period', async (t) => {
  const { path, sink } = await followApp(t, { summaryMs: 300, rotateWaitMs: 50 }, text(numbered('A', 0, 10)));
  await waitFor(() => sink.lines().length === 10, { what: 'the first lines' });
  const infoAtStart = sink.logs.filter((l) => l.level === 'info').length; // the file followed at start
  for (let i = 0; i < 5; i++) {
    await rename(path, `${path}.${i}`);
    await writeFile(path, text(numbered(String.fromCharCode(66 + i), 0, 10)));
    await waitFor(() => sink.c('rotations') === i + 1, { what: `rotation ${i + 1}` });
    // Read the new file before the next rotation: under load the follower may count the rename
    // before it opens the new file, and this test is about logging, not about generations that
    // live shorter than a look (the fault suite's rotation storms cover those).
    await waitFor(() => sink.lines().length === 10 * (i + 2), { what: `the lines of generation ${i + 2}` });
  }
  await waitFor(() => sink.c('files_closed') === 5, { what: 'the old files closed' });
  const summaries = () => sink.logs.filter((l) => l.level === 'info' && l.msg.startsWith('rotation summary'));
  await waitFor(() => summaries().reduce((n, l) => n + ((l.obj as { closed?: number }).closed ?? 0), 0) === 5, { what: 'summaries of the 5 closes' });
  const sum = (k: string) => summaries().reduce((n, l) => n + ((l.obj as Record<string, number>)[k] ?? 0), 0);
  assert.deepEqual([sum('rotated'), sum('opened'), sum('closed')], [5, 5, 5]);
  assert.ok(summaries().length <= 2, `one line per period, not per event (${summaries().length})`);
  // Every other info line is from the start; per-event lines went to debug.
  assert.equal(sink.logs.filter((l) => l.level === 'info').length, infoAtStart + summaries().length);
  assert.ok(sink.logs.filter((l) => l.level === 'debug' && l.msg.startsWith('file rotated')).length === 5);
  const n = summaries().length;
  await new Promise((r) => setTimeout(r, 700)); // the point: two quiet periods pass
  assert.equal(summaries().length, n, 'no summary for a period without rotations');
});
