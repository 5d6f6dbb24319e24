import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);
import { test } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeSink, follower, numbered, diff, tempDir, until } from './harness.js';
import { runWriter } from './writer.js';
for (let k = 0; k < 6; k++) test('dbg ' + k, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  const sink = new FakeSink();
  await writeFile(path, '');
  const f = follower(dir, sink, { path });
  await f.start();
  const N = 60_000;
  await runWriter({ path, to: N, rotateEvery: 12_000, mode: 'copytruncate', afterRotateMs: 150 });
  try { await until(() => sink.lines().length >= N, 'x', 3000); } catch {
    const d = diff(sink.lines(), numbered('L', 0, N));
    console.log('missing', d.missing.length, d.missing[0], d.missing.at(-1), 'dup', d.dup.length, 'extra', d.extra.length);
    console.log(sink.logs.map(l => l.level + ' ' + l.msg + ' ' + JSON.stringify(l.obj)).join('\n'));
    console.log(JSON.stringify(Object.fromEntries(sink.counters)));
    console.log(require('child_process').execSync(`ls -li --time-style=+%T.%N ${dir}`).toString());
  }
});
