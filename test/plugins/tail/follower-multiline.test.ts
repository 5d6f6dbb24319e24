// tail's multiline option in the follower: traces leave whole, the committed offset never passes
// the start of a trace still being assembled, flush_timeout emits a trace that ended, and a
// restart in the middle of a trace reads the whole trace once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MultilineSet } from '../../../core/multiline/ml-registry.js';
import type { FileEntry } from '../../../plugins/tail/tail-db.js';
import { FakeSink, follower, followApp, tempDir, text } from './harness.js';
import { waitFor } from '../../helpers/wait.js';

const java = readFileSync(new URL('../../fixtures/multiline/java.log', import.meta.url), 'utf8')
  .replace(/\n$/, '')
  .split('\n');
const trace = java.slice(2, 14);
const multiline = (flushMs = 300) => ({
  machine: new MultilineSet().machine('java', undefined, { flushMs }),
  limits: { maxLines: 1000, maxBytes: 1 << 20, budgetMs: 1000 },
});
const offset = async (dir: string) => (Object.values(JSON.parse(await readFile(join(dir, 'offsets.json'), 'utf8')).files) as FileEntry[])[0]?.offset ?? -1;

test('a trace written in pieces leaves whole; the commit stops at its start until it is complete', async (t) => {
  const head = text(java.slice(0, 2));
  const { dir, path, sink } = await followApp(t, { multiline: multiline(60_000) }, head + text(trace.slice(0, 5)));
  await waitFor(() => sink.lines().length === 2, { what: 'the two log lines before the trace' });
  // The trace is held: the file is committed up to its first line, not to what was read.
  await waitFor(async () => (await offset(dir)) === Buffer.byteLength(head), { what: 'commit at the start of the trace' });
  await appendFile(path, text(trace.slice(5)));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(sink.lines().length, 2, 'a trace that may go on is held');
  assert.equal(await offset(dir), Buffer.byteLength(head));
  await appendFile(path, text(java.slice(14, 15)));
  await waitFor(() => sink.lines().length === 4, { what: 'the trace and the line after it' });
  assert.deepEqual(sink.lines().slice(2), [trace.join('\n'), java[14]]);
  const r = sink.records()[2]!;
  assert.equal(r.meta.seq, Buffer.byteLength(head + text(trace)));
  assert.equal(sink.c('multiline_records'), 1);
  await waitFor(async () => (await offset(dir)) === Buffer.byteLength(head + text(trace) + text(java.slice(14, 15))), { what: 'commit past the trace' });
});

test('flush_timeout: a trace at the end of the file leaves after it, without a next line', async (t) => {
  const { sink } = await followApp(t, { multiline: multiline(300) }, text(java.slice(15, 18)));
  const t0 = Date.now();
  await waitFor(() => sink.lines().length === 1, { what: 'the trace after flush_timeout' });
  assert.ok(Date.now() - t0 >= 250, 'not before flush_timeout');
  assert.equal(sink.lines()[0], java.slice(15, 18).join('\n'));
});

test('a restart in the middle of a trace reads the whole trace once', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  const head = text(java.slice(0, 2));
  await appendFile(path, head + text(trace.slice(0, 7)));
  const s1 = new FakeSink();
  const f1 = follower(dir, s1, { path, multiline: multiline(60_000) });
  await f1.start();
  await waitFor(() => s1.lines().length === 2, { what: 'the lines before the trace' });
  await waitFor(async () => (await offset(dir)) === Buffer.byteLength(head), { what: 'commit at the start of the trace' });
  await f1.close();
  assert.equal(await offset(dir), Buffer.byteLength(head), 'a held trace is not committed at the stop');
  await appendFile(path, text(trace.slice(7)) + text(java.slice(14, 15)));
  const s2 = new FakeSink();
  const f2 = follower(dir, s2, { path, readFromHead: false, multiline: multiline(60_000) });
  await f2.start();
  await waitFor(() => s2.lines().length === 2, { what: 'the trace and the line after it' });
  assert.deepEqual([...s1.lines(), ...s2.lines()], [java[0], java[1], trace.join('\n'), java[14]]);
});
