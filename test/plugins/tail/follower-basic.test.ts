import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeSink, follower, sameLines, tempDir } from './harness.js';
import { numbered } from '../../helpers/lines.js';
import { waitFor } from '../../helpers/wait.js';

test('read_from_head reads existing files; appends follow; records carry path, src, seq, tag', async (t) => {
  const dir = await tempDir(t);
  const a = join(dir, 'a.log');
  await writeFile(a, 'one\ntwo\n');
  const sink = new FakeSink();
  const f = follower(dir, sink, { pathKey: 'file' });
  await f.start();
  await waitFor(() => sink.lines().length === 2, { what: 'existing lines' });
  await appendFile(a, 'three\r\nfour\n');
  await waitFor(() => sink.lines().length === 4, { what: 'appended lines' });
  assert.deepEqual(sink.lines(), ['one', 'two', 'three', 'four']);
  const r = sink.records();
  assert.equal(r[0]!.tag, `test.${a.slice(1).replace(/\//g, '.')}`);
  assert.equal(r[0]!.meta.path, a);
  assert.equal(r[0]!.meta.file, a);
  assert.match(String(r[0]!.meta.src), /^\d+:\d+:[0-9a-f]{12}:0$/);
  assert.deepEqual(
    r.map((x) => x.meta.seq),
    [4, 8, 15, 20],
  );
  assert.equal(typeof r[0]!.time, 'bigint');
  assert.equal(sink.c('files_opened'), 1);
  assert.equal(sink.c('read_bytes'), 20);
});

test('without read_from_head, existing files start at the end (of the last complete line)', async (t) => {
  const dir = await tempDir(t);
  const a = join(dir, 'a.log');
  await writeFile(a, 'old1\nold2\nhalf');
  const sink = new FakeSink();
  const f = follower(dir, sink, { readFromHead: false });
  await f.start();
  await appendFile(a, '-done\nnew\n');
  await waitFor(() => sink.lines().length === 2, { what: 'new lines' });
  assert.deepEqual(sink.lines(), ['half-done', 'new']);
});

test('a file that appears later matching the glob is read from its head; excluded ones are not', async (t) => {
  const dir = await tempDir(t);
  const sink = new FakeSink();
  const f = follower(dir, sink, { readFromHead: false, exclude: '*.skip.log' });
  await f.start();
  await writeFile(join(dir, 'x.skip.log'), 'no\n');
  await writeFile(join(dir, 'b.log'), `${numbered('B', 0, 1000).join('\n')}\n`);
  await writeFile(join(dir, 'c.txt'), 'no\n');
  await waitFor(() => sink.lines().length >= 1000, { what: 'new file' });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(sameLines(sink.lines(), numbered('B', 0, 1000)), undefined);
});

test('partial last line waits for its newline', async (t) => {
  const dir = await tempDir(t);
  const a = join(dir, 'a.log');
  await writeFile(a, 'first\nsec');
  const sink = new FakeSink();
  const f = follower(dir, sink);
  await f.start();
  await waitFor(() => sink.lines().length === 1, { what: 'first' });
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(sink.lines(), ['first']);
  await appendFile(a, 'ond\n');
  await waitFor(() => sink.lines().length === 2, { what: 'second' });
  assert.deepEqual(sink.lines(), ['first', 'second']);
});

test('backpressure: emit() false stops reading until ready()', async (t) => {
  const dir = await tempDir(t);
  const want = numbered('L', 0, 20000);
  await writeFile(join(dir, 'a.log'), `${want.join('\n')}\n`);
  const sink = new FakeSink();
  sink.fullAfter = 2;
  const f = follower(dir, sink, { readSize: 16 * 1024, maxLine: 1024 });
  await f.start();
  await waitFor(() => sink.chunks.length === 2, { what: 'two chunks' });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sink.chunks.length, 2);
  sink.release();
  await waitFor(() => sink.lines().length === want.length, { what: 'all lines' });
  assert.equal(sameLines(sink.lines(), want), undefined);
});

test('a line longer than buffer_max_size is split, flagged and counted; the file keeps going', async (t) => {
  const dir = await tempDir(t);
  const long = 'x'.repeat(5000);
  await writeFile(join(dir, 'a.log'), `a\n${long}\nb\n`);
  const sink = new FakeSink();
  const f = follower(dir, sink, { maxLine: 1000, readSize: 1500 });
  await f.start();
  await waitFor(() => sink.lines().at(-1) === 'b', { what: 'b' });
  const r = sink.records();
  assert.equal(r.map((x) => x.body).join(''), `a${long}b`);
  assert.equal(r.length, 7);
  assert.ok(r.slice(1, 6).every((x) => x.meta.truncated === true && (x.body as string).length === 1000));
  assert.equal(r[0]!.meta.truncated, undefined);
  assert.equal(sink.c('long_lines'), 1);
});

test('invalid UTF-8 is replaced and flagged on that line only', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.log'), Buffer.concat([Buffer.from('ok\n'), Buffer.from([0xc3, 0x28, 0x0a]), Buffer.from('ok2\n')]));
  const sink = new FakeSink();
  const f = follower(dir, sink);
  await f.start();
  await waitFor(() => sink.lines().length === 3, { what: 'lines' });
  const r = sink.records();
  assert.deepEqual(
    r.map((x) => [x.body, x.meta.invalid_utf8]),
    [
      ['ok', undefined],
      ['\ufffd(', true],
      ['ok2', undefined],
    ],
  );
  assert.equal(sink.c('invalid_utf8_lines'), 1);
});
