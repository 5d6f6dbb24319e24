import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F_INVALID_UTF8, F_LONG_START, F_TRUNCATED, LineScratch, scanLines, type SplitState, splitInto } from '../../../plugins/tail/tail-lines.js';

type Range = [number, number, number, number];
type Opts = { base?: number; max?: number; inLong?: boolean; final?: boolean };

/** scanLines with `out` only (the JavaScript), and with the addon's split of plain lines into a LineScratch (tail's follower). */
function scanBoth(buf: Buffer, n: number, opts: Opts, sc = new LineScratch()): { js: Range[]; st: SplitState; viaAddon: Range[]; stAddon: SplitState } {
  const args = [buf, n, opts.base ?? 0, opts.max ?? 1024, opts.inLong ?? false, opts.final ?? false] as const;
  const js: Range[] = [];
  const st = scanLines(...args, (s, e, seq, flags) => js.push([s, e, seq, flags]));
  const bulk = splitInto(sc);
  assert.ok(bulk, 'the addon is built with splitLines (npm ci builds native/)');
  sc.count = 0;
  let bulkCalls = 0;
  const stAddon = scanLines(
    ...args,
    (s, e, seq, flags) => {
      if (sc.count === sc.starts.length) sc.grow();
      sc.starts[sc.count] = s;
      sc.ends[sc.count] = e;
      sc.seqs[sc.count] = seq;
      sc.flags[sc.count++] = flags;
    },
    (view, from, to, max, base) => {
      bulkCalls++;
      return bulk(view, from, to, max, base);
    },
  );
  const viaAddon: Range[] = [];
  for (let i = 0; i < sc.count; i++) viaAddon.push([sc.starts[i]!, sc.ends[i]!, sc.seqs[i]!, sc.flags[i]!]);
  // The addon must have been asked whenever plain lines could be taken at once.
  if (js.some((r) => r[3] === 0) && !js.some((r) => r[3] & F_INVALID_UTF8) && !(opts.inLong && js.length === 1))
    assert.ok(bulkCalls > 0, 'the addon split was used');
  return { js, st, viaAddon, stAddon };
}

interface Out {
  body: string;
  seq: number;
  flags: number;
}
function split(text: string | Buffer, opts: Opts = {}) {
  const b = typeof text === 'string' ? Buffer.from(text) : text;
  const buf = Buffer.alloc(b.length + 16, 0x41); // stale bytes after n must be ignored
  b.copy(buf);
  const out: Out[] = [];
  const { js: ranges, st, viaAddon, stAddon } = scanBoth(buf, b.length, opts);
  // Every case, split by the addon (tail's path when it is built), gives the same lines and state.
  assert.deepEqual(viaAddon, ranges, 'the addon split the same lines');
  assert.deepEqual(stAddon, st, 'the addon split left the same state');
  // Decoded as tail's records decode them: latin1 when the whole batch is ASCII, else UTF-8.
  for (const [s, e, seq, flags] of ranges) out.push({ body: buf.toString(st.ascii ? 'latin1' : 'utf8', s, e), seq, flags });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, control characters included, is the point
  assert.equal(st.ascii, /^[\x00-\x7f]*$/.test(buf.toString('latin1', 0, st.consumed)), 'ascii tells whether every consumed byte is ASCII');
  return { out, ...st };
}

test('LF and CRLF lines, offsets after each line, partial line waits', () => {
  const r = split('a\r\nbb\n\nccc\r\npart', { base: 100 });
  assert.deepEqual(r.out, [
    { body: 'a', seq: 103, flags: 0 },
    { body: 'bb', seq: 106, flags: 0 },
    { body: '', seq: 107, flags: 0 },
    { body: 'ccc', seq: 112, flags: 0 },
  ]);
  assert.equal(r.consumed, 12);
  assert.equal(r.inLong, false);
});

test('final emits the unterminated last line', () => {
  const r = split('x\ny', { final: true });
  assert.deepEqual(
    r.out.map((o) => [o.body, o.seq]),
    [
      ['x', 2],
      ['y', 3],
    ],
  );
  assert.equal(r.consumed, 3);
});

test('no newline at all: nothing consumed', () => {
  const r = split('abc');
  assert.deepEqual(r.out, []);
  assert.equal(r.consumed, 0);
});

test('UTF-8 lines decode as UTF-8', () => {
  const r = split('héllo 世界\n😀\n');
  assert.deepEqual(
    r.out.map((o) => [o.body, o.flags]),
    [
      ['héllo 世界', 0],
      ['😀', 0],
    ],
  );
  assert.equal(r.out[1]!.seq, Buffer.byteLength('héllo 世界\n😀\n'));
});

test('invalid UTF-8 flags only the bad line; neighbours intact', () => {
  const b = Buffer.concat([Buffer.from('good1\n'), Buffer.from([0x62, 0xff, 0xfe, 0x00, 0x61, 0x0a]), Buffer.from('good2 é\n')]);
  const r = split(b);
  assert.equal(r.out.length, 3);
  assert.deepEqual(r.out[0], { body: 'good1', seq: 6, flags: 0 });
  assert.equal(r.out[1]!.body, 'b\ufffd\ufffd\u0000a');
  assert.equal(r.out[1]!.flags, F_INVALID_UTF8);
  assert.deepEqual(r.out[2], { body: 'good2 é', seq: b.length, flags: 0 });
});

test('NUL bytes are valid UTF-8 and pass through unflagged', () => {
  const r = split('a\u0000b\n');
  assert.deepEqual(r.out, [{ body: 'a\u0000b', seq: 4, flags: 0 }]);
});

test('a complete long line is split into pieces of max bytes, all flagged', () => {
  const line = 'x'.repeat(25);
  const r = split(`ok\n${line}\nafter\n`, { max: 10 });
  assert.deepEqual(
    r.out.map((o) => [o.body, o.seq, o.flags]),
    [
      ['ok', 3, 0],
      ['x'.repeat(10), 13, F_TRUNCATED | F_LONG_START],
      ['x'.repeat(10), 23, F_TRUNCATED],
      ['x'.repeat(5), 29, F_TRUNCATED],
      ['after', 35, 0],
    ],
  );
  assert.equal(r.inLong, false);
});

test('an unterminated long line emits full pieces and keeps the rest; continuation is flagged', () => {
  const r1 = split('y'.repeat(23), { max: 10 });
  assert.deepEqual(
    r1.out.map((o) => [o.body.length, o.seq, o.flags]),
    [
      [10, 10, F_TRUNCATED | F_LONG_START],
      [10, 20, F_TRUNCATED],
    ],
  );
  assert.equal(r1.consumed, 20);
  assert.equal(r1.inLong, true);
  // The caller re-reads from offset 20: 3 more bytes + the end of the line.
  const r2 = split('yyyz\nnext\n', { base: 20, max: 10, inLong: true });
  assert.deepEqual(
    r2.out.map((o) => [o.body, o.seq, o.flags]),
    [
      ['yyyz', 25, F_TRUNCATED],
      ['next', 30, 0],
    ],
  );
});

test('a line of exactly max bytes is not truncated', () => {
  const r = split(`${'z'.repeat(10)}\n`, { max: 10 });
  assert.deepEqual(r.out, [{ body: 'z'.repeat(10), seq: 11, flags: 0 }]);
});

test('pieces never split a UTF-8 character', () => {
  const line = 'é'.repeat(12); // 24 bytes
  const r = split(`${line}\n`, { max: 5 });
  assert.ok(r.out.every((o) => (o.flags & F_INVALID_UTF8) === 0));
  assert.equal(r.out.map((o) => o.body).join(''), line);
  assert.ok(r.out.every((o) => Buffer.byteLength(o.body) <= 5));
});

test('CRLF at a piece boundary does not produce an empty or CR-only piece', () => {
  const r1 = split(`${'a'.repeat(10)}\r`, { max: 10 });
  assert.deepEqual(
    r1.out.map((o) => o.body),
    ['a'.repeat(10)],
  );
  const r1b = split('\r\nnext\n', { base: 10, max: 10, inLong: true });
  assert.deepEqual(
    r1b.out.map((o) => o.body),
    ['next'],
  ); // the CR-only rest is not a record
  const r2 = split(`${'a'.repeat(11)}\r`, { max: 10 });
  assert.equal(r2.out[0]!.body, 'a'.repeat(10));
  const r3 = split('a\r\n', { base: r2.consumed, max: 10, inLong: true });
  assert.deepEqual(
    r3.out.map((o) => o.body),
    ['a'],
  );
});

test('a long line ending exactly at a piece boundary leaves no empty piece', () => {
  const r1 = split('b'.repeat(11), { max: 10 });
  assert.equal(r1.consumed, 10);
  const r2 = split('b\n', { base: 10, max: 10, inLong: true });
  assert.deepEqual(
    r2.out.map((o) => [o.body, o.seq]),
    [['b', 12]],
  );
  const r3 = split('\r\nq\n', { base: 10, max: 10, inLong: true });
  assert.deepEqual(
    r3.out.map((o) => [o.body, o.seq]),
    [['q', 14]],
  );
  assert.equal(r3.consumed, 4);
});

test('seq is strictly increasing and ends at consumed', () => {
  const parts: string[] = [];
  for (let i = 0; i < 1000; i++) parts.push('w'.repeat(i % 37) + (i % 5 === 0 ? '\r' : ''));
  const text = `${parts.join('\n')}\nrest`;
  const r = split(text, { base: 7, max: 16 });
  for (let i = 1; i < r.out.length; i++) assert.ok(r.out[i]!.seq > r.out[i - 1]!.seq);
  assert.equal(r.out.at(-1)!.seq, 7 + r.consumed);
});

test("the addon's split gives the lines of the JavaScript split, on random batches", () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = ['a', 'bc', 'é', '世', '😀', '\r', '\n', '\r\n', '\n\n', 'x'.repeat(40), '\u0000'];
  // One scratch for all rounds: it starts small and grows inside the addon's runs.
  const sc = new LineScratch();
  for (let round = 0; round < 400; round++) {
    let text = '';
    const len = round % 50 === 0 ? 30_000 : rnd(400);
    while (text.length < len) text += pieces[rnd(pieces.length)]!;
    let b = Buffer.from(text);
    // Now and then a byte that is not UTF-8 (the per-line JavaScript path for the whole batch).
    if (round % 7 === 3 && b.length > 2) {
      b = Buffer.from(b);
      b[rnd(b.length)] = 0xff;
    }
    const opts: Opts = { base: rnd(1000), max: 1 + rnd(60), inLong: rnd(4) === 0, final: rnd(3) === 0 };
    const cut = rnd(b.length + 1);
    const { js, st, viaAddon, stAddon } = scanBoth(b, cut, opts, sc);
    assert.deepEqual(viaAddon, js, `round ${round}`);
    assert.deepEqual(stAddon, st, `round ${round}`);
  }
  assert.ok(sc.starts.length > 4096, 'a batch of more lines than the scratch holds grew it');
});
