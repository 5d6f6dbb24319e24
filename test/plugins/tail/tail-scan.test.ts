import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePaths, expandTag, splitList } from '../../../plugins/tail/tail-scan.js';

test('splitList keeps commas inside braces', () => {
  assert.deepEqual(splitList('a.log, b/{x,y}.log,,c'), ['a.log', 'b/{x,y}.log', 'c']);
  assert.deepEqual(splitList(['a,b', 'c']), ['a', 'b', 'c']);
});

test('expandTag follows Fluent Bit', () => {
  assert.equal(expandTag('kube.*', '/var/log/containers/a.log'), 'kube.var.log.containers.a.log');
  assert.equal(expandTag('app', '/x/y.log'), 'app');
  assert.equal(expandTag('*', '/x/y.log'), 'x.y.log');
});

test('globs, plain paths, relative paths and exclude_path', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'qlog-tail-scan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'a/b'), { recursive: true });
  for (const f of ['x.log', 'x.log.1', 'y.log.gz', '.hidden.log', 'a/z.log', 'a/b/w.log', 'plain.txt']) await writeFile(join(dir, f), '');
  await symlink(join(dir, 'plain.txt'), join(dir, 'a/link.log'));
  const ps = compilePaths(['**/*.log', 'plain.txt', '*.gz'], '*.gz,a/b/*', dir);
  assert.deepEqual(await ps.scan(), [join(dir, 'a/link.log'), join(dir, 'a/z.log'), join(dir, 'plain.txt'), join(dir, 'x.log')]);
  assert.equal(ps.matches(join(dir, 'new.log')), true);
  assert.equal(ps.matches(join(dir, 'x.log.1')), false);
  assert.equal(ps.matches(join(dir, 'a/b/w.log')), false);
  assert.equal(ps.matches(join(dir, 'q.gz')), false);
  assert.deepEqual([...ps.baseDirs].sort(), [dir]);
  const single = compilePaths(join(dir, 'a/*.log'), [], '/');
  assert.deepEqual(single.baseDirs, [join(dir, 'a')]);
  const missing = compilePaths(join(dir, 'nope/*.log'), [], '/');
  assert.deepEqual(await missing.scan(), []);
});
