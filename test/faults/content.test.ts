/**
 * Fault case 12: awkward line content end to end (tail -> vsock-forward -> vsock -> rotated-file),
 * as documented in plugins/tail/README.md and docs/tail-rotation.md:
 *  - bytes that are not UTF-8 become U+FFFD, one per bad sequence, in that line only
 *    (meta.invalid_utf8 = true); the neighbouring lines are intact;
 *  - NUL bytes pass through;
 *  - CR LF loses the CR;
 *  - a 1 MiB line arrives whole when buffer_max_size is above it (and the link's
 *    max_frame_size too); with the default buffer_max_size (256 KiB) it arrives split into
 *    pieces of at most 256 KiB, each flagged meta.truncated, that concatenate to the line.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rig } from './lib/rig.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const FFFD = '\uFFFD';
const big = `B4 ${'y'.repeat(MiB - 3)}`; // exactly 1 MiB, ASCII

/** Raw bytes written, and the line expected in the parent's file (`format: line`). */
const cases: [Buffer, string][] = [
  [Buffer.from('B1 plain line\n'), 'B1 plain line'],
  [
    Buffer.from([
      ...Buffer.from('B2 latin-1 caf'),
      0xe9,
      ...Buffer.from(' and ff fe '),
      0xff,
      0xfe,
      ...Buffer.from(' and a cut euro '),
      0xe2,
      0x82,
      ...Buffer.from(' end\n'),
    ]),
    `B2 latin-1 caf${FFFD} and ff fe ${FFFD}${FFFD} and a cut euro ${FFFD} end`,
  ],
  [Buffer.from('B3 nul \u0000 inside \u0000\u0000 twice\n'), 'B3 nul \u0000 inside \u0000\u0000 twice'],
  [Buffer.from(`${big}\n`), big],
  [Buffer.from('B5 crlf\r\n'), 'B5 crlf'],
  [Buffer.from('B6 utf-8 h\u00e9llo \u20acuro \u{1F600}\n'), 'B6 utf-8 h\u00e9llo \u20acuro \u{1F600}'],
  [Buffer.from('B7 after\n'), 'B7 after'],
];

/** A second output writing each record's flags next to its body, to check the metadata that crossed the link. */
const metaOutput = (ws: string) => ({
  name: 'rotated-file',
  alias: 'meta',
  match: '*',
  workspace: ws,
  file: 'meta.log',
  format: 'template',
  template: '${meta.truncated:-0} ${meta.invalid_utf8:-0} ${body}',
  rotate_size: '64MB',
});

async function run(t: TestContext, tail: Record<string, unknown>, forward: Record<string, unknown>) {
  const rig = new Rig(t, { tail, forward, file: { rotate_size: '64MB' } });
  rig.configure({ parentOutputs: [metaOutput(rig.ws)] });
  await rig.start();
  for (const [raw] of cases) appendFileSync(rig.log, raw);
  const out = join(rig.ws, 'out.log');
  const read = () => {
    try {
      return readFileSync(out);
    } catch {
      return Buffer.alloc(0);
    }
  };
  await waitFor(() => read().includes('B7 after\n'), { timeoutMs: 20_000, intervalMs: 100, what: "the last case's line in the parent's file" });
  const r = await rig.finish(0, -1);
  assert.deepEqual(r.exit, { enclave: 0, parent: 0 });
  const text = read().toString('utf8');
  const meta = readFileSync(join(rig.ws, 'meta.log'), 'utf8').split('\n').slice(0, -1);
  return { rig, lines: text.split('\n').slice(0, -1), meta };
}

test('12a. invalid UTF-8, NUL bytes, CR LF and a 1 MiB line (buffer_max_size 2 MiB) arrive as documented', async (t) => {
  const { lines, meta } = await run(t, { buffer_max_size: '2MiB' }, { max_frame_size: '4MiB' });
  assert.equal(lines.length, cases.length, `one line per line written (got ${lines.length})`);
  for (let i = 0; i < cases.length; i++) assert.equal(lines[i], cases[i]![1], `line ${i + 1} (${cases[i]![1].slice(0, 20)}...)`);
  assert.equal(Buffer.byteLength(lines[3]!), MiB, 'the 1 MiB line is whole');
  // Metadata that crossed the link: invalid_utf8 on B2 only, truncated on none.
  const flags = meta.map((l) => l.slice(0, l.indexOf(' ', l.indexOf(' ') + 1)));
  assert.deepEqual(flags, ['0 0', '0 true', '0 0', '0 0', '0 0', '0 0', '0 0']);
  t.diagnostic('7 lines written, 7 arrived byte-exact; U+FFFD per bad sequence, NULs kept, CR removed, 1 MiB line whole');
});

test('12b. a 1 MiB line with the default buffer_max_size (256 KiB) arrives as 4 pieces flagged truncated', async (t) => {
  const { lines, meta } = await run(t, {}, {});
  const piece = 256 * 1024;
  const pieces = lines.slice(3, 7);
  assert.equal(lines.length, cases.length + 3, `the long line became 4 lines (got ${lines.length} lines)`);
  for (const p of pieces) assert.ok(Buffer.byteLength(p) <= piece, `piece of ${Buffer.byteLength(p)} bytes <= 256 KiB`);
  assert.equal(pieces.join(''), big, 'the pieces concatenate to the line');
  const rest = [...lines.slice(0, 3), ...lines.slice(7)];
  assert.deepEqual(
    rest,
    cases.filter((_, i) => i !== 3).map((c) => c[1]),
    'the other lines are intact',
  );
  const flags = meta.map((l) => l.slice(0, l.indexOf(' ', l.indexOf(' ') + 1)));
  assert.deepEqual(flags, ['0 0', '0 true', '0 0', 'true 0', 'true 0', 'true 0', 'true 0', '0 0', '0 0', '0 0']);
  t.diagnostic(`1 MiB line -> pieces of ${pieces.map((p) => Buffer.byteLength(p)).join(', ')} bytes, each meta.truncated`);
});

test('12c. a line longer than vsock-forward max_frame_size is dropped and counted (documented), the others arrive', async (t) => {
  // buffer_max_size raised to 2 MiB but the link's max_frame_size left at 1 MiB: a configuration
  // mistake the forward output reports (records_too_large, an error log) instead of stalling.
  const { rig, lines } = await run(t, { buffer_max_size: '2MiB' }, {});
  assert.deepEqual(
    lines,
    cases.filter((_, i) => i !== 3).map((c) => c[1]),
    'every other line arrived intact',
  );
  assert.match(rig.enclave.stderr(), /dropped 1 record\(s\) of app bigger than max_frame_size/);
  t.diagnostic('the 1 MiB line was dropped by vsock-forward (records_too_large), the 6 others arrived');
});
