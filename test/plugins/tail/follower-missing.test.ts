/** A `path` that finds nothing says so: a warning at start, again at a slow interval, info once when it appears. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeSink, follower, tempDir } from './harness.js';
import { waitFor } from '../../helpers/wait.js';

const logsOf = (s: FakeSink, level: string, re: RegExp) => s.logs.filter((l) => l.level === level && re.test(l.msg));

test('a missing file is warned about at start and every missingWarnMs (not every refresh), and its appearance logged once', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  const s = new FakeSink();
  const f = follower(dir, s, { path, refreshMs: 50, missingWarnMs: 400 });
  await f.start();
  const warns = () => logsOf(s, 'warn', /not found/);
  assert.equal(warns().length, 1, 'warned at start');
  assert.deepEqual(warns()[0]!.obj, { path });
  assert.match(warns()[0]!.msg, /waiting for it to appear/);
  const t0 = Date.now();
  await waitFor(() => warns().length === 2, { what: 'the second warning' });
  assert.ok(Date.now() - t0 >= 300, 'not at every refresh_interval (50 ms)');
  assert.match(warns()[1]!.msg, /still not found/);
  await writeFile(path, 'here\n');
  await waitFor(() => s.lines().length === 1, { what: 'the line' });
  await waitFor(() => logsOf(s, 'info', /file found/).length === 1, { what: 'the appearance logged' });
  const n = warns().length;
  await new Promise((r) => setTimeout(r, 600)); // the point: no more warnings once it is there
  assert.equal(warns().length, n);
  assert.equal(logsOf(s, 'info', /file found/).length, 1);
});

test('a pattern that matches nothing is warned about; a file found is not', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'there.log'), 'x\n');
  const s = new FakeSink();
  const f = follower(dir, s, { path: [join(dir, 'there.log'), join(dir, 'sub', '*.log')], refreshMs: 50 });
  await f.start();
  await waitFor(() => s.lines().length === 1, { what: 'the line' });
  const warns = s.logs.filter((l) => l.level === 'warn');
  assert.deepEqual(
    warns.map((w) => [w.obj, w.msg]),
    [[{ path: join(dir, 'sub', '*.log') }, 'no file matches this pattern: waiting for one to appear (is `path` right?)']],
  );
});
