import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { lines, numbered, openRotatedFile } from './harness.js';

test('lines are written byte for byte, one write per chunk, with mode 0640', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const out = await openRotatedFile(t, { workspace: ws, file: 'service.log' });
  const texts = ['2024-12-31 10:00:00 - Hello, service.', '  spaces kept  ', 'tab\there', 'ünïcödé ✓ 日本語', '', 'last'];
  await out.flush(lines(texts));
  await out.flush(lines(numbered('line', 1, 100)));
  const got = readFileSync(join(ws, 'service.log'), 'utf8');
  assert.equal(got, `${[...texts, ...numbered('line', 1, 100)].join('\n')}\n`);
  assert.equal(statSync(join(ws, 'service.log')).mode & 0o777, 0o640);
  assert.equal(out.counters.get('lines_written'), 106);
  await out.close();
});

test('object records: line format writes their `log` field, json and template formats', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const out = await openRotatedFile(t, { workspace: ws, file: '${tag}.log', format: 'line' });
  const rec = { time: 1_700_000_000_123_456_789n, tag: 'resource', body: { log: 'cpu=1.0% mem=2.0%', cpu: { pct: 1 }, big: 9007199254740993n }, meta: {} };
  await out.flush({ id: 'c1', tag: 'resource', records: [rec], bytes: 10 });
  assert.equal(readFileSync(join(ws, 'resource.log'), 'utf8'), 'cpu=1.0% mem=2.0%\n');
  await out.close();

  const js = await openRotatedFile(t, { workspace: ws, file: 'json.log', format: 'json' }, join(dir, 's2'));
  await js.flush({ id: 'c2', tag: 'resource', records: [rec, { ...rec, body: 'plain' }], bytes: 10 });
  const [a, b] = readFileSync(join(ws, 'json.log'), 'utf8').trim().split('\n');
  // Nanoseconds kept; an integer beyond 2^53 written as the integer it is.
  assert.equal(a, '{"time":"2023-11-14T22:13:20.123456789Z","tag":"resource","log":"cpu=1.0% mem=2.0%","cpu":{"pct":1},"big":9007199254740993}');
  assert.deepEqual(JSON.parse(b!), { time: '2023-11-14T22:13:20.123456789Z', tag: 'resource', log: 'plain' });
  await js.close();

  const tp = await openRotatedFile(t, { workspace: ws, file: 't.log', format: 'template', template: '[${tag}] ${log}' }, join(dir, 's3'));
  await tp.flush({ id: 'c3', tag: 'resource', records: [rec], bytes: 10 });
  assert.equal(readFileSync(join(ws, 't.log'), 'utf8'), '[resource] cpu=1.0% mem=2.0%\n');
  await tp.close();
});

test('file templates route records to one file per tag, in subdirectories', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const out = await openRotatedFile(t, { workspace: ws, file: '${cid:-local}/${tag}.log' });
  const c = lines(['a1', 'a2'], { tag: 'a' });
  c.records.push(...lines(['b1'], { tag: 'b' }).records);
  c.records[2]!.meta.cid = 7;
  await out.flush(c);
  assert.equal(readFileSync(join(ws, 'local', 'a.log'), 'utf8'), 'a1\na2\n');
  assert.equal(readFileSync(join(ws, '7', 'b.log'), 'utf8'), 'b1\n');
  await out.close();
});

test('an existing file is appended to, not overwritten', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const first = await openRotatedFile(t, { workspace: ws, file: 'x.log' });
  await first.flush(lines(['old']));
  await first.close();
  const second = await openRotatedFile(t, { workspace: ws, file: 'x.log' }, join(dir, 'other-state'));
  await second.flush(lines(['new']));
  assert.equal(readFileSync(join(ws, 'x.log'), 'utf8'), 'old\nnew\n');
  await second.close();
});

test('many files: at most max_open_files stay open and every line lands', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const out = await openRotatedFile(t, { workspace: ws, file: '${tag}.log', max_open_files: 2 });
  for (let round = 0; round < 3; round++) {
    for (let f = 0; f < 6; f++) {
      await out.flush(lines([`r${round}`], { tag: `f${f}` }));
      assert.ok(out.counters.get('open_files') <= 2, `open_files ${out.counters.get('open_files')}`);
    }
  }
  for (let f = 0; f < 6; f++) assert.equal(readFileSync(join(ws, `f${f}.log`), 'utf8'), 'r0\nr1\nr2\n');
  await out.close();
});
