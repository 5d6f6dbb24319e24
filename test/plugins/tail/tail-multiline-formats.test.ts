// tail's multiline option through the plugin (the harness runs it in a real engine), on real
// logs: CRI P/F lines, Docker json-file pieces, a Python traceback, a Go panic.
import { type TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tail from '../../../plugins/tail/index.js';
import { createHarness } from '../../../core/testing/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/multiline/${name}`, import.meta.url));

async function run(t: TestContext, file: string, multiline: string, count: number) {
  const dir = mkdtempSync(join(tmpdir(), 'qlog-tail-ml-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'c.log');
  copyFileSync(fixture(file), path);
  const h = await createHarness(tail, { options: { path, read_from_head: true, multiline }, service: { state_dir: join(dir, 'state') } });
  t.after(() => h.stop());
  return { h, recs: await h.collect({ count }) };
}

test('tail multiline cri: P pieces are joined up to their F line, per stream', async (t) => {
  const { h, recs } = await run(t, 'cri.log', 'cri', 3);
  assert.deepEqual(
    recs.map((r) => (r.body as { message: string }).message),
    ['warning: disk 91% full', '{"level":"info","msg":"a very long line that the runtime split in three"}', 'short line'],
  );
  assert.equal(recs[1]!.time, 1696551429669794500n);
  assert.equal(h.counters.multiline_records, 1);
});

test('tail multiline docker: json-file pieces without a newline are joined', async (t) => {
  const { recs } = await run(t, 'docker.log', 'docker', 2);
  assert.deepEqual(
    recs.map((r) => (r.body as { log: string }).log),
    ['first piece of a 16k line, second piece\n', 'whole line\n'],
  );
});

test('tail multiline python: a traceback is one record', async (t) => {
  const { recs } = await run(t, 'python.log', 'python', 3);
  assert.equal((recs[1]!.body as string).split('\n').length, 8);
  assert.match(recs[1]!.body as string, /^Traceback[\s\S]*FileNotFoundError/);
});

test('tail multiline go: a panic with goroutines is one record', async (t) => {
  const { recs } = await run(t, 'go.log', 'go', 3);
  assert.equal((recs[1]!.body as string).split('\n').length, 13);
  assert.equal(recs[2]!.body, 'exit status 2');
});
