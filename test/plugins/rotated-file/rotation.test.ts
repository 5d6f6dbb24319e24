import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { lines, numbered, openRotatedFile } from './harness.js';

const LINE = 20; // "line 00001 xxxxxxxx\n"
const text = (i: number) => `line ${String(i).padStart(5, '0')} xxxxxxxx`;

test('rotation: logrotate names, newest first, at most rotate_num files of about rotate_size', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const out = await openRotatedFile(t, { workspace: ws, file: 'service.log', rotate_size: 1000, rotate_num: 3 });
  // 300 lines = 6000 bytes = 6 files' worth, in chunks that do not align with the boundary.
  for (let i = 0; i < 300; i += 37) await out.flush(lines(Array.from({ length: Math.min(37, 300 - i) }, (_, k) => text(i + k))));
  const names = readdirSync(ws).sort();
  assert.deepEqual(names, ['service.log', 'service.log.1', 'service.log.2', 'service.log.3']);
  for (const n of names.slice(1)) {
    const size = statSync(join(ws, n)).size;
    assert.ok(size >= 1000 && size < 1000 + LINE, `${n} is ${size} bytes`);
  }
  // Read oldest to newest: consecutive lines, ending with the last one written.
  const all = ['service.log.3', 'service.log.2', 'service.log.1', 'service.log'].map((n) => readFileSync(join(ws, n), 'utf8')).join('');
  const got = all.trim().split('\n');
  assert.equal(got.at(-1), text(299));
  const first = Number(got[0]!.split(' ')[1]);
  assert.deepEqual(
    got,
    Array.from({ length: 300 - first }, (_, k) => text(first + k)),
  );
  assert.ok(out.counters.get('rotations') >= 5);
  await out.close();
});

test('rotation with compress: .1.gz .. .N.gz hold the rotated lines', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const out = await openRotatedFile(t, { workspace: ws, file: 'service.log', rotate_size: 1000, rotate_num: 2, compress: true });
  await out.flush(lines(Array.from({ length: 120 }, (_, k) => text(k))));
  assert.deepEqual(readdirSync(ws).sort(), ['service.log', 'service.log.1.gz', 'service.log.2.gz']);
  const all = [
    gunzipSync(readFileSync(join(ws, 'service.log.2.gz'))).toString(),
    gunzipSync(readFileSync(join(ws, 'service.log.1.gz'))).toString(),
    readFileSync(join(ws, 'service.log'), 'utf8'),
  ].join('');
  const got = all.trim().split('\n');
  assert.equal(got.length, 120);
  assert.deepEqual(
    got,
    Array.from({ length: 120 }, (_, k) => text(k)),
  );
  await out.close();
});

test('a file already over rotate_size is rotated when opened; a line longer than rotate_size gets a file of its own', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const a = await openRotatedFile(t, { workspace: ws, file: 's.log', rotate_size: 100000 });
  await a.flush(lines(numbered('x', 0, 100)));
  await a.close();
  const b = await openRotatedFile(t, { workspace: ws, file: 's.log', rotate_size: 100 });
  await b.flush(lines(['y'.repeat(300), 'z']));
  assert.equal(readFileSync(join(ws, 's.log.2'), 'utf8'), `${numbered('x', 0, 100).join('\n')}\n`);
  assert.equal(readFileSync(join(ws, 's.log.1'), 'utf8'), `${'y'.repeat(300)}\n`);
  assert.equal(readFileSync(join(ws, 's.log'), 'utf8'), 'z\n');
  await b.close();
});
