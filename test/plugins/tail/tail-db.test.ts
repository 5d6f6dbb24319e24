import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OffsetDb, type FileEntry } from '../../../plugins/tail/tail-db.js';

const entry = (offset: number): FileEntry => ({ path: '/x.log', dev: '1', ino: '2', fpLen: 3, fp: 'ab', sid: '1:2:n', gen: 0, offset });

test('writes are coalesced, atomic and reloadable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'qlog-tail-db-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'offsets.json');
  const errors: unknown[] = [];
  const db = new OffsetDb(file, 50, (e) => errors.push(e));
  await db.load();
  assert.equal(db.existed, false);
  for (let i = 0; i < 100; i++) db.set('1:2', entry(i));
  await new Promise((r) => setTimeout(r, 150)); // the point: three intervals go by and the 100 sets made one write
  assert.equal(db.writes, 1);
  const s = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(s.files['1:2'].offset, 99);
  db.set('1:2', entry(100));
  await db.close(); // pending change written at close
  assert.equal(JSON.parse(await readFile(file, 'utf8')).files['1:2'].offset, 100);
  db.set('1:2', entry(101)); // after close: synchronous
  assert.equal(JSON.parse(await readFile(file, 'utf8')).files['1:2'].offset, 101);
  assert.deepEqual((await readdir(dir)).sort(), ['offsets.json']); // no temp files left
  const db2 = new OffsetDb(file, 50, (e) => errors.push(e));
  await db2.load();
  assert.equal(db2.existed, true);
  assert.ok(db2.savedAt > 0);
  assert.equal(db2.get('1:2')?.offset, 101);
  assert.deepEqual(errors, []);
});

test('a corrupt state file is moved aside and reported', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'qlog-tail-db-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'offsets.json');
  await writeFile(file, '{"version":1,"files":{');
  const errors: string[] = [];
  const db = new OffsetDb(file, 50, (_e, what) => errors.push(what));
  await db.load();
  assert.equal(db.existed, true);
  assert.equal(db.entries.size, 0);
  assert.equal(errors.length, 1);
  assert.ok((await readdir(dir)).includes('offsets.json.corrupt'));
});
