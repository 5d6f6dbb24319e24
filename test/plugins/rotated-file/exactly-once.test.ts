import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { lines, numbered, openRotatedFile } from './harness.js';

const stateFile = (dir: string) => join(dir, readdirSync(dir).find((f) => f.startsWith('out.file-') && f.endsWith('.json'))!);

test('records resent with a seq at or below their source mark are skipped, also after a restart', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const a = await openRotatedFile(t, { workspace: ws, file: 's.log' });
  await a.flush(lines(numbered('a', 1, 5), { src: 'A', from: 1 }));
  await a.flush(lines(numbered('a', 3, 5), { src: 'A', from: 3 })); // 3..5 again, 6..7 new
  await a.flush(lines(numbered('b', 1, 2), { src: 'B', from: 1 })); // another source: independent
  await a.flush(lines(['no src', 'no src'])); // records without src/seq are always written
  assert.equal(a.counters.get('duplicates_skipped'), 3);
  await a.close();

  const b = await openRotatedFile(t, { workspace: ws, file: 's.log' });
  await b.flush(lines(numbered('a', 1, 8), { src: 'A', from: 1 })); // only 8 is new
  assert.equal(b.counters.get('duplicates_skipped'), 7);
  const expected = [...numbered('a', 1, 7), 'b 1', 'b 2', 'no src', 'no src', 'a 8'];
  assert.deepEqual(readFileSync(join(ws, 's.log'), 'utf8').trim().split('\n'), expected);
  await b.close();
});

test('after a crash, bytes past the recorded size are cut before writing again (then resent once)', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const a = await openRotatedFile(t, { workspace: ws, file: 's.log' });
  await a.flush(lines(numbered('l', 1, 3), { src: 'S', from: 1 }));
  await a.close();
  const st = JSON.parse(readFileSync(stateFile(a.stateDir), 'utf8')) as { size: number; ino: number; hw: [string, number][] };
  assert.equal(st.size, statSync(join(ws, 's.log')).size);
  assert.deepEqual(st.hw, [['S', 3]]);
  // Simulate "written, then killed before the state was saved": lines 4-5 and a torn line 6.
  appendFileSync(join(ws, 's.log'), 'l 4\nl 5\nl 6 (tor');
  const b = await openRotatedFile(t, { workspace: ws, file: 's.log' });
  // The sender never got the ack for 4..6, so it resends them; 1..3 too, as a sender restarting from an older offset would.
  await b.flush(lines(numbered('l', 1, 6), { src: 'S', from: 1 }));
  assert.deepEqual(readFileSync(join(ws, 's.log'), 'utf8').split('\n'), [...numbered('l', 1, 6), '']);
  assert.equal(b.counters.get('unacked_bytes_cut'), 'l 4\nl 5\nl 6 (tor'.length);
  assert.equal(b.counters.get('duplicates_skipped'), 3);
  await b.close();
});

test('crash after the rotation renamed the file but before the new state: the new live file is cut, nothing duplicated', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const a = await openRotatedFile(t, { workspace: ws, file: 's.log', rotate_size: 1000 });
  await a.flush(lines(numbered('l', 1, 3), { src: 'S', from: 1 }));
  await a.close();
  const file = stateFile(a.stateDir);
  const st = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  // State as saved in the rotation event, then the rename happened, and a line reached the new file.
  writeFileSync(file, JSON.stringify({ ...st, rotating: { ino: st.ino, first: null } }));
  renameSync(join(ws, 's.log'), join(ws, 's.log.1'));
  writeFileSync(join(ws, 's.log'), 'l 4\n');
  const b = await openRotatedFile(t, { workspace: ws, file: 's.log', rotate_size: 1000 });
  await b.flush(lines(numbered('l', 1, 5), { src: 'S', from: 1 }));
  assert.equal(readFileSync(join(ws, 's.log.1'), 'utf8'), 'l 1\nl 2\nl 3\n');
  assert.equal(readFileSync(join(ws, 's.log'), 'utf8'), 'l 4\nl 5\n');
  await b.close();
});

test('crash during compression of a rotated file: the partial .1.gz is removed', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const opts = { workspace: ws, file: 's.log', rotate_size: 1000, compress: true };
  const a = await openRotatedFile(t, opts);
  await a.flush(lines(numbered('l', 1, 3), { src: 'S', from: 1 }));
  await a.close();
  const file = stateFile(a.stateDir);
  const st = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...st, rotating: { ino: st.ino, first: null } }));
  writeFileSync(join(ws, 's.log.1.gz'), 'partial gzip');
  const b = await openRotatedFile(t, opts);
  await b.flush(lines(numbered('l', 1, 4), { src: 'S', from: 1 }));
  assert.equal(readFileSync(join(ws, 's.log'), 'utf8'), 'l 1\nl 2\nl 3\nl 4\n');
  assert.deepEqual(readdirSync(ws).sort(), ['s.log']);
  await b.close();
});

test('a chunk retried after a partial failure does not write its records without src twice', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  mkdirSync(ws);
  const out = await openRotatedFile(t, { workspace: ws, file: '${tag}.log', mkdir: false });
  const c = lines(['ok 1', 'ok 2'], { tag: 'good' });
  c.records.push(...lines(['x'], { tag: 'sub/x' }).records);
  // sub/ does not exist and mkdir is off: that part fails (not acked), the other part is written.
  await assert.rejects(out.flush(c), /ENOENT|no such file/);
  assert.equal(readFileSync(join(ws, 'good.log'), 'utf8'), 'ok 1\nok 2\n');
  mkdirSync(join(ws, 'sub'));
  await out.flush(c); // the core retries the same chunk (same id)
  assert.equal(readFileSync(join(ws, 'good.log'), 'utf8'), 'ok 1\nok 2\n');
  assert.equal(readFileSync(join(ws, 'sub', 'x.log'), 'utf8'), 'x\n');
  await out.close();
});
