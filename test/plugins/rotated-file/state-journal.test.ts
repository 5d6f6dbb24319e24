/**
 * The delivery state's base + journal (rotated-file-state.ts): what a restart reads after a crash
 * at any moment (a torn record, a fold cut short), the upgrade from a plain state file, and that
 * the replay equals the state in memory after many changes with many sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyDelta,
  copyState,
  crc32Js,
  type Delta,
  emptyState,
  encodeRecord,
  type FileState,
  journalPath,
  loadState,
  MAX_SOURCES,
  readState,
  saveStateSync,
  StateStore,
} from '../../../plugins/rotated-file/rotated-file-state.js';
import { tempDir } from '../../helpers/tmp.js';
import { lines, numbered, openRotatedFile } from './harness.js';

/** A state as plain data, the sources in their (least recently written first) order. */
const plain = (s: FileState) => ({ ino: s.ino, size: s.size, rotating: s.rotating ?? null, hw: [...s.hw] });

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x80000000;
  };
}

/** A few changes of every kind. */
const CHANGES: Delta[] = [
  { ino: 1001, size: 0, rotating: null },
  { size: 120, marks: new Map([['A', 3]]) },
  {
    size: 250,
    marks: new Map([
      ['B', 7],
      ['A', 5],
    ]),
  },
  { size: 400, marks: new Map([['src with "quotes" and\nnewline ü', 9]]), rotating: { ino: 1001, first: 77 } },
  { ino: 1002, size: 0, rotating: null },
  { size: 90, marks: new Map([['A', 6]]) },
];

function statesAfter(changes: Delta[]): FileState[] {
  const out = [emptyState()];
  for (const d of changes) {
    const s = copyState(out.at(-1)!);
    applyDelta(s, d);
    out.push(s);
  }
  return out;
}

test('a torn last record (cut at every byte): the state is exactly the one before it; the next change does not follow the garbage', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.file-x.json');
  const store = new StateStore(path, { durable: false, file: 'x' });
  for (const d of CHANGES.slice(0, -1)) store.commitSync(d);
  const before = plain(readState(path));
  const start = statSync(journalPath(path)).size;
  store.commitSync(CHANGES.at(-1)!);
  const after = plain(store.state);
  const full = readFileSync(journalPath(path));
  assert.ok(full.length > start + 10);
  assert.deepEqual(plain(readState(path)), after);
  assert.deepEqual(after, plain(statesAfter(CHANGES).at(-1)!));
  store.close();

  for (let cut = start; cut < full.length; cut++) {
    writeFileSync(journalPath(path), full.subarray(0, cut));
    // The close folded the journal into a base: remove it (the journal follows no base, as before the close).
    rmSync(path, { force: true });
    const l = loadState(path);
    assert.deepEqual(plain(l.state), before, `cut at ${cut}`);
    assert.equal(l.ignored, cut - start, `cut at ${cut}`);
    assert.equal(l.clean, cut === start, `cut at ${cut}`);
  }

  // A store opened on the torn journal: its next change writes a base and empties the journal.
  const s2 = new StateStore(path, { durable: false, file: 'x' });
  assert.deepEqual(plain(s2.state), before);
  s2.commitSync({ size: 999, marks: new Map([['C', 1]]) });
  assert.equal(statSync(journalPath(path)).size, 0);
  const expected = statesAfter(CHANGES.slice(0, -1)).at(-1)!;
  applyDelta(expected, { size: 999, marks: new Map([['C', 1]]) });
  assert.deepEqual(plain(readState(path)), plain(expected));
  // Appends follow that base.
  s2.commitSync({ size: 1000 });
  expected.size = 1000;
  assert.deepEqual(plain(readState(path)), plain(expected));
  assert.equal(loadState(path).clean, true);
  s2.close();
});

test('a damaged record stops the replay there: the records after it are ignored, not applied out of order', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.file-x.json');
  const store = new StateStore(path, { durable: false, file: 'x' });
  const offsets: number[] = [];
  for (const d of CHANGES) {
    offsets.push(existsSync(journalPath(path)) ? statSync(journalPath(path)).size : 0);
    store.commitSync(d);
  }
  const full = readFileSync(journalPath(path));
  const states = statesAfter(CHANGES);
  for (let k = 0; k < CHANGES.length; k++) {
    // One byte of record k's JSON changed (checksum mismatch), and record k missing (a gap).
    const bad = Buffer.from(full);
    bad[offsets[k]! + 12] ^= 0x01;
    writeFileSync(journalPath(path), bad);
    assert.deepEqual(plain(readState(path)), plain(states[k]!), `record ${k} damaged`);
    const gap = Buffer.concat([full.subarray(0, offsets[k]), full.subarray(offsets[k + 1] ?? full.length)]);
    writeFileSync(journalPath(path), gap);
    assert.deepEqual(plain(readState(path)), plain(states[k]!), `record ${k} missing`);
  }
});

test('a crash at any step of folding the journal into a new base loads the same state', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.file-x.json');
  const jp = journalPath(path);
  const states = statesAfter(CHANGES);
  const rec = (k: number) => Buffer.from(encodeRecord(k, CHANGES[k - 1]!));
  const journal = (from: number, to: number) => Buffer.concat(Array.from({ length: to - from + 1 }, (_, i) => rec(from + i)));
  const last = CHANGES.length;
  const expect = (what: string, stale: number) => {
    const l = loadState(path);
    assert.deepEqual(plain(l.state), plain(states[last]!), what);
    assert.equal(l.gen, last, what);
    assert.equal(l.stale, stale, what);
  };

  // Before the fold: base of change 2, journal 3..6; the new base written to its temp file but not renamed.
  saveStateSync(path, states[2]!, { file: 'x', durable: false, gen: 2, journal: true });
  writeFileSync(jp, journal(3, last));
  expect('fold not started', 0);
  writeFileSync(`${path}.tmp-1-0`, JSON.stringify({ v: 1, file: 'x', gen: last, ino: 5, size: 5, hw: [] }));
  expect('new base in its temp file', 0);
  // Renamed, the journal not yet emptied: its records are already in the base.
  saveStateSync(path, states[last]!, { file: 'x', durable: false, gen: last, journal: true });
  expect('new base renamed, journal kept', last - 2);
  assert.equal(loadState(path).clean, false);
  // The next change writes a base (never appended behind records the base already has).
  const store = new StateStore(path, { durable: false, file: 'x' });
  store.commitSync({ size: 5 });
  assert.equal(statSync(jp).size, 0);
  assert.equal(readState(path).size, 5);
  store.close();
  // Journal emptied.
  saveStateSync(path, states[last]!, { file: 'x', durable: false, gen: last, journal: true });
  writeFileSync(jp, '');
  expect('journal emptied', 0);
  // The same while a torn tail was being replaced by a base: base of change 6, journal 3..5 + a torn 6.
  const torn = rec(last);
  writeFileSync(jp, Buffer.concat([journal(3, last - 1), torn.subarray(0, torn.length - 3)]));
  expect('base written over a torn journal, journal not yet emptied', last - 3);
});

test('the store folds its journal as it grows: the replay equals the state in memory after every change (many sources, LRU bound)', async (t) => {
  for (const durable of [false, true]) {
    const dir = tempDir(t);
    const path = join(dir, 'out.file-x.json');
    const r = rng(durable ? 7 : 3);
    const journalMax = 4096;
    let store = new StateStore(path, { durable, file: 'x', journalMax });
    const model = emptyState();
    const n = durable ? 150 : 3000;
    let folds = 0;
    let prevLen = 0;
    const seqs = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const d: Delta = { size: Math.floor(r() * 1e9) };
      const x = r();
      if (x < 0.03) Object.assign(d, { rotating: { ino: Math.floor(r() * 1e6), first: r() < 0.5 ? null : 5 } });
      else if (x < 0.06) Object.assign(d, { rotating: null, ino: Math.floor(r() * 1e6) });
      const marks = new Map<string, number>();
      // Mostly a few hot sources, sometimes a burst of new ones (past MAX_SOURCES in all).
      const count = r() < 0.05 ? 200 : 1 + Math.floor(r() * 5);
      for (let k = 0; k < count; k++) {
        const src = r() < 0.7 ? `hot-${Math.floor(r() * 20)}` : `src-${Math.floor(r() * 3000)}`;
        const seq = (seqs.get(src) ?? 0) + 1 + Math.floor(r() * 100);
        seqs.set(src, seq);
        marks.set(src, seq);
      }
      d.marks = marks;
      if (durable) await store.commit(d);
      else store.commitSync(d);
      applyDelta(model, d);
      const want = JSON.stringify(plain(model));
      assert.equal(JSON.stringify(plain(store.state)), want, `change ${i}`);
      assert.ok(store.state.hw.size <= MAX_SOURCES);
      const len = statSync(journalPath(path)).size;
      if (len < prevLen) folds++;
      prevLen = len;
      // Bounded: the fold runs once past the bound, so at most the bound plus one record.
      assert.ok(len <= journalMax + Buffer.byteLength(encodeRecord(i, d)), `journal ${len} bytes`);
      if (durable || i % 5 === 0) assert.equal(JSON.stringify(plain(readState(path))), want, `replay after change ${i}`);
      if (i % 500 === 499) {
        store.close();
        assert.ok(!existsSync(journalPath(path)), 'close folds and removes the journal');
        assert.deepEqual(plain(readState(path)), plain(model));
        store = new StateStore(path, { durable, file: 'x', journalMax });
      }
    }
    if (!durable) assert.equal(model.hw.size, MAX_SOURCES, 'sources kept');
    assert.ok(folds > (durable ? 2 : 20), `${folds} folds`);
    store.close();
    assert.deepEqual(plain(readState(path)), plain(model));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f !== 'out.file-x.json'),
      [],
      'no temp files or journal left',
    );
  }
});

test('a plain state file of an earlier version loads, and the plugin goes on from it with a journal beside it', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const stateDir = join(dir, 'state');
  // Written by an earlier version: lines 1-3 of S recorded, then "l 4\n" written but never recorded.
  const first = await openRotatedFile(t, { workspace: ws, file: 's.log' }, stateDir);
  await first.flush(lines(['x']));
  await first.close();
  writeFileSync(join(ws, 's.log'), 'l 1\nl 2\nl 3\nl 4\n');
  const base = join(stateDir, 'out.file-s.log.json');
  const old = { v: 1, file: 's.log', ino: statSync(join(ws, 's.log')).ino, size: 12, hw: [['S', 3]] };
  writeFileSync(base, JSON.stringify(old));

  const out = await openRotatedFile(t, { workspace: ws, file: 's.log' }, stateDir);
  await out.flush(lines(numbered('l', 1, 5), { src: 'S', from: 1 }));
  assert.equal(readFileSync(join(ws, 's.log'), 'utf8'), 'l 1\nl 2\nl 3\nl 4\nl 5\n');
  assert.equal(out.counters.get('duplicates_skipped'), 3);
  assert.equal(out.counters.get('unacked_bytes_cut'), 4);
  // Recorded in the journal, the base left as it was.
  assert.ok(existsSync(journalPath(base)));
  assert.deepEqual(JSON.parse(readFileSync(base, 'utf8')), old);
  assert.deepEqual(plain(readState(base)), { ino: old.ino, size: 20, rotating: null, hw: [['S', 5]] });
  await out.close();
  assert.ok(!existsSync(journalPath(base)));
  const folded = JSON.parse(readFileSync(base, 'utf8')) as { size: number; gen: number; hw: unknown };
  assert.equal(folded.size, 20);
  assert.deepEqual(folded.hw, [['S', 5]]);
  assert.ok(folded.gen > 0);
});

test('writing a part appends to the journal, the base is not replaced; a journal cut mid-record: the part is written again, once', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const first = await openRotatedFile(t, { workspace: ws, file: 's.log' });
  await first.flush(lines(numbered('l', 1, 2), { src: 'S', from: 1 }));
  await first.close();
  const base = join(first.stateDir, 'out.file-s.log.json');
  const ino = statSync(base).ino;

  const out = await openRotatedFile(t, { workspace: ws, file: 's.log' });
  for (let i = 3; i <= 22; i++) await out.flush(lines([`l ${i}`], { src: 'S', from: i }));
  assert.equal(statSync(base).ino, ino, 'base not replaced');
  const journal = readFileSync(journalPath(base));
  assert.equal(journal.toString().split('\n').length - 1, 20, 'one record per part');
  assert.deepEqual(plain(readState(base)).hw, [['S', 22]]);
  assert.equal(readState(base).size, statSync(join(ws, 's.log')).size);
  const baseText = readFileSync(base);
  await out.close();

  // As a SIGKILL in the middle of the last append would leave it.
  writeFileSync(base, baseText);
  writeFileSync(journalPath(base), journal.subarray(0, journal.length - 5));
  const again = await openRotatedFile(t, { workspace: ws, file: 's.log' });
  await again.flush(lines(numbered('l', 3, 20), { src: 'S', from: 3 }));
  assert.equal(again.counters.get('unacked_bytes_cut'), 'l 22\n'.length);
  assert.equal(again.counters.get('duplicates_skipped'), 19);
  assert.equal(readFileSync(join(ws, 's.log'), 'utf8'), `${numbered('l', 1, 22).join('\n')}\n`);
  await again.close();
});

test('the checksum is CRC-32 (IEEE) with or without zlib.crc32', () => {
  assert.equal(crc32Js(Buffer.from('123456789')), 0xcbf43926);
  const line = encodeRecord(7, { size: 1, marks: new Map([['ü', 2]]) });
  assert.equal(
    line.slice(0, 9),
    `${crc32Js(Buffer.from(line.slice(9, -1)))
      .toString(16)
      .padStart(8, '0')} `,
  );
});

test('a journal that cannot be written (ENOSPC): the change fails and is not in the state; the next ones go to the base', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.file-x.json');
  const first = new StateStore(path, { durable: false, file: 'x' });
  first.commitSync({ ino: 1, size: 10 });
  first.close();
  const store = new StateStore(path, { durable: false, file: 'x' });
  // Every write to it fails with ENOSPC, and it cannot be cut back either.
  symlinkSync('/dev/full', journalPath(path));
  const genBefore = (JSON.parse(readFileSync(path, 'utf8')) as { gen?: number }).gen ?? 0;
  assert.throws(() => store.commitSync({ size: 20, marks: new Map([['A', 1]]) }), { code: 'ENOSPC' });
  assert.deepEqual(plain(store.state), { ino: 1, size: 10, rotating: null, hw: [] });
  // Not cut back: a base of the unchanged state, one generation on, was written at once (it
  // outranks the failed change's record, had that record been whole).
  const base = JSON.parse(readFileSync(path, 'utf8')) as { gen?: number; size: number; hw: unknown[] };
  assert.deepEqual([base.gen, base.size, base.hw], [genBefore + 1, 10, []]);
  store.commitSync({ size: 30, marks: new Map([['A', 2]]) });
  // Read as a journal, /dev/full would never end: an empty one in its place (the store's descriptor stays on /dev/full).
  rmSync(journalPath(path));
  writeFileSync(journalPath(path), '');
  assert.deepEqual(plain(readState(path)), { ino: 1, size: 30, rotating: null, hw: [['A', 2]] });
  store.commitSync({ size: 40 });
  assert.deepEqual(plain(readState(path)), { ino: 1, size: 40, rotating: null, hw: [['A', 2]] });
  store.close();
  assert.deepEqual(plain(readState(path)), plain(store.state));
});

test('a fold that fails keeps the journal (reported, tried again later); the changes are all recorded', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.file-x.json');
  const errors: Error[] = [];
  const store = new StateStore(path, { durable: false, file: 'x', journalMax: 1000, onFoldError: (e) => errors.push(e) });
  store.commitSync({ ino: 1, size: 0 });
  const model = emptyState();
  applyDelta(model, { ino: 1, size: 0 });
  // A non-empty directory in the base's place: renaming a new base over it fails.
  rmSync(path, { force: true });
  mkdirSync(join(path, 'x'), { recursive: true });
  for (let i = 1; i <= 40; i++) {
    const d = { size: i * 100, marks: new Map([[`s${i % 7}`, i]]) };
    store.commitSync(d);
    applyDelta(model, d);
  }
  assert.ok(errors.length >= 1, 'fold failure reported');
  assert.ok(statSync(journalPath(path)).size > 1000, 'journal kept past its bound');
  rmSync(path, { recursive: true });
  for (let i = 41; i <= 80; i++) {
    const d = { size: i * 100, marks: new Map([[`s${i % 7}`, i]]) };
    store.commitSync(d);
    applyDelta(model, d);
  }
  assert.ok(statSync(journalPath(path)).size <= 1000, 'folded once the base could be written');
  assert.deepEqual(plain(readState(path)), plain(model));
  assert.deepEqual(plain(store.state), plain(model));
  assert.deepEqual(readdirSync(dir).sort(), ['out.file-x.json', 'out.file-x.json.journal'], 'no temp files left by the failed folds');
  store.close();
});

test('a base whose journal is missing (copied without it) is not trusted for the size: the file is taken as it is, nothing cut', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const out = await openRotatedFile(t, { workspace: ws, file: 's.log' });
  await out.flush(lines(numbered('l', 1, 3), { src: 'S', from: 1 }));
  const base = join(out.stateDir, 'out.file-s.log.json');
  await out.close();
  // While running, the journal was folded into a base (it says a journal follows), then more was recorded there.
  saveStateSync(base, readState(base), { file: 's.log', durable: false, gen: 9, journal: true });
  appendFileSync(join(ws, 's.log'), 'l 4\n'); // recorded in the journal, which is then lost
  const l = loadState(base);
  assert.equal(l.lost, true);
  assert.deepEqual(plain(l.state), { ino: null, size: 0, rotating: null, hw: [['S', 3]] });

  const again = await openRotatedFile(t, { workspace: ws, file: 's.log' });
  await again.flush(lines(numbered('l', 1, 5), { src: 'S', from: 1 }));
  // "l 4" was acknowledged: not cut. Sent again, it is written again (at-least-once, not loss).
  assert.equal(readFileSync(join(ws, 's.log'), 'utf8'), 'l 1\nl 2\nl 3\nl 4\nl 4\nl 5\n');
  assert.equal(again.counters.get('unacked_bytes_cut'), 0);
  assert.ok(again.logs.some((e) => /says its journal .* follows it, but there is none/.test(String(e.msg))));
  await again.close();
  // Closed: the base stands alone again.
  assert.equal(loadState(base).lost, false);
  assert.ok(!existsSync(journalPath(base)));
});
