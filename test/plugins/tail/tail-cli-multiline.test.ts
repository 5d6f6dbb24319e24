// tail's multiline option on the real agent: a Java trace leaves as one record (seq = the end of
// its last line), and a SIGTERM in the middle of a trace leaves the offset at its start, so the
// next run prints the whole trace once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, settle, started, startAgent, stop, tailConfig, tempDir } from './cli.js';

const java = readFileSync(new URL('../../fixtures/multiline/java.log', import.meta.url), 'utf8')
  .replace(/\n$/, '')
  .split('\n');
const text = (l: readonly string[]) => l.map((x) => `${x}\n`).join('');
const logs = (out: readonly string[]) => out.map((l) => JSON.parse(l) as { log: string; meta: { seq: number } });

test('CLI: tail multiline java: traces leave whole; a stop mid-trace re-reads the whole trace once', async (t) => {
  const dir = tempDir(t, 'qlog-tail-ml-');
  const path = join(dir, 'app.log');
  const trace = java.slice(2, 14);
  writeFileSync(path, text([...java.slice(0, 2), ...trace.slice(0, 8)]));
  const cfg = tailConfig(dir, { path, read_from_head: true, multiline: 'java' }, { format: 'json' });
  const a = startAgent(t, dir, cfg);
  await started(a);
  await lines(a, 2);
  await settle(300);
  await stop(a);
  assert.deepEqual(
    logs(a.stdout).map((r) => r.log),
    java.slice(0, 2),
  );
  const st = JSON.parse(readFileSync(join(dir, 'state', 'tail.0.offsets.json'), 'utf8'));
  const committed = Object.values(st.files as Record<string, { offset: number }>)[0]!.offset;
  assert.equal(committed, Buffer.byteLength(text(java.slice(0, 2))), 'committed up to the start of the held trace');

  appendFileSync(path, text([...trace.slice(8), ...java.slice(14)]));
  const b = startAgent(t, dir, cfg);
  await started(b);
  await lines(b, 4);
  await settle(300);
  await stop(b);
  const out = logs(b.stdout);
  assert.deepEqual(
    out.map((r) => r.log),
    [trace.join('\n'), java[14], java.slice(15, 18).join('\n'), java[18]],
  );
  assert.equal(out[0]!.meta.seq, Buffer.byteLength(text(java.slice(0, 14))));
});
