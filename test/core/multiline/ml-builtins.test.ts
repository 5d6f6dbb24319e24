// The built-in multiline parsers on real logs: a Java trace with Caused by and "... N more", a
// Python traceback, a Go panic with goroutines, CRI P/F lines and Docker json-file pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MultilineSet } from '../../../core/multiline/ml-registry.js';
import { RuleMachine } from '../../../core/multiline/ml-rules.js';
import { MultilineStream, newCounts } from '../../../core/multiline/ml-stream.js';
import type { LogRecord } from '../../../core/record.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/multiline/${name}`, import.meta.url), 'utf8')
    .replace(/\n$/, '')
    .split('\n');

/** Feed every line (seq = its index + 1) and flush at the end, as tail does at a file's close. */
function join(parser: string, lines: string[], limits = { maxLines: 1000, maxBytes: 1 << 20, budgetMs: 1000 }) {
  const counts = newCounts();
  const s = new MultilineStream(new MultilineSet().machine(parser), limits, counts);
  const out: LogRecord[] = [];
  const emit = (r: LogRecord) => {
    out.push(r);
  };
  for (const [i, line] of lines.entries()) s.push({ time: 1n, tag: 't', body: line, meta: { seq: i + 1 } }, i, emit);
  s.flush(emit);
  return { out, counts, bodies: out.map((r) => r.body), seqs: out.map((r) => r.meta.seq) };
}

test('java: a trace with Caused by and ... N more is one record; log lines around it stay alone', () => {
  const lines = fixture('java.log');
  const { bodies, seqs, counts } = join('java', lines);
  assert.deepEqual(bodies, [lines[0], lines[1], lines.slice(2, 14).join('\n'), lines[14], lines.slice(15, 18).join('\n'), lines[18]]);
  // A record's seq is the end of its last line: the trace ends at line 14.
  assert.deepEqual(seqs, [1, 2, 14, 15, 18, 19]);
  assert.equal(counts.joined, 2);
});

test('python: a traceback is one record, complete at its exception line (no timeout needed)', () => {
  const lines = fixture('python.log');
  const counts = newCounts();
  const s = new MultilineStream(new MultilineSet().machine('python'), { maxLines: 1000, maxBytes: 1 << 20, budgetMs: 1000 }, counts);
  const out: LogRecord[] = [];
  for (const [i, line] of lines.slice(0, 9).entries()) s.push({ time: 1n, tag: 't', body: line, meta: { seq: i + 1 } }, i, (r) => void out.push(r));
  assert.equal(s.holding, false);
  assert.deepEqual(
    out.map((r) => r.body),
    [lines[0], lines.slice(1, 9).join('\n')],
  );
});

test('go: a panic with two goroutines and a "created by" frame is one record', () => {
  const lines = fixture('go.log');
  const { bodies } = join('go', lines);
  assert.deepEqual(bodies, [lines[0], lines.slice(1, 14).join('\n'), lines[14]]);
});

test('cri: P pieces are joined up to their F line, per stream; the time is the last piece', () => {
  const { out, seqs } = join('cri', fixture('cri.log'));
  assert.deepEqual(
    out.map((r) => [r.body, r.time]),
    [
      [{ time: '2023-10-06T00:17:09.669794300Z', stream: 'stderr', logtag: 'F', message: 'warning: disk 91% full' }, 1696551429669794300n],
      [
        {
          time: '2023-10-06T00:17:09.669794500Z',
          stream: 'stdout',
          logtag: 'F',
          message: '{"level":"info","msg":"a very long line that the runtime split in three"}',
        },
        1696551429669794500n,
      ],
      [{ time: '2023-10-06T00:17:10.000000001Z', stream: 'stdout', logtag: 'F', message: 'short line' }, 1696551430000000001n],
    ],
  );
  // Emitted in the order they complete, so seqs stay increasing for a downstream high-water mark.
  assert.deepEqual(seqs, [2, 4, 5]);
});

test('docker: log pieces without a trailing newline are joined', () => {
  const { bodies } = join('docker', fixture('docker.log'));
  assert.deepEqual(bodies, [
    { log: 'first piece of a 16k line, second piece\n', stream: 'stdout', time: '2023-10-06T00:17:09.669794300Z' },
    { log: 'whole line\n', stream: 'stderr', time: '2023-10-06T00:17:10.000000001Z' },
  ]);
});

test('caps: a trace over max_lines is cut and flagged, and its rest goes on as a flagged record', () => {
  const lines = fixture('java.log').slice(2, 14);
  const { out, counts } = join('java', lines, { maxLines: 5, maxBytes: 1 << 20, budgetMs: 1000 });
  assert.deepEqual(
    out.map((r) => [(r.body as string).split('\n').length, r.meta.truncated]),
    [
      [5, true],
      [5, true],
      [2, true],
    ],
  );
  assert.equal(out.map((r) => r.body).join('\n'), lines.join('\n'));
  assert.equal(counts.truncated, 2);
  const bytes = join('java', lines, { maxLines: 1000, maxBytes: 300, budgetMs: 1000 });
  assert.ok(bytes.out.length > 1 && bytes.out.every((r) => (r.body as string).length <= 300 + 200));
  assert.equal(bytes.out.map((r) => r.body).join('\n'), lines.join('\n'));
});

test('time budget: a pattern that is too slow leaves the record as is and bypasses the parser', () => {
  // Catastrophic backtracking on a run of "a" without a "b": hundreds of ms per line.
  const set = new MultilineSet([{ name: 'slow', rules: new RuleMachine([['start_state', '^(a+)+b', 'start_state']]), flushMs: 1000, key: 'log' }]);
  const counts = newCounts();
  const s = new MultilineStream(set.machine('slow'), { maxLines: 1000, maxBytes: 1 << 20, budgetMs: 5 }, counts);
  const out: LogRecord[] = [];
  const bad = `${'a'.repeat(21)}c`;
  const started = performance.now();
  for (let i = 0; i < 20; i++) s.push({ time: 1n, tag: 't', body: bad, meta: {} }, i, (r) => void out.push(r));
  assert.equal(out.length, 20);
  assert.equal(counts.overBudget, 1);
  assert.equal(counts.bypassed, 19);
  // Twenty lines through the bad pattern would take seconds; only the first one ran it.
  assert.ok(performance.now() - started < 20 * 50);
});

test('time budget: a stall while a rule decides (thread descheduled, GC) is not the rule being slow', () => {
  // On a busy machine the thread can be off the CPU for longer than the budget in the middle of a
  // decision. That wall-clock time is not the pattern's: the trace stays one record and the
  // parser is not bypassed. Here the thread sleeps 60 ms (budget 20 ms) the first time the
  // "Caused by" line is decided, as a descheduled thread would.
  const lines = fixture('java.log');
  const java = new MultilineSet().machine('java');
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let stalls = 0;
  const stalled = {
    ...java,
    step(state: string, text: string, r: LogRecord) {
      if (text === lines[6] && stalls++ === 0) Atomics.wait(nap, 0, 0, 60);
      return java.step(state, text, r);
    },
  };
  const counts = newCounts();
  const s = new MultilineStream(stalled, { maxLines: 1000, maxBytes: 1 << 20, budgetMs: 20 }, counts);
  const out: LogRecord[] = [];
  for (const [i, line] of lines.entries()) s.push({ time: 1n, tag: 't', body: line, meta: { seq: i + 1 } }, i, (r) => void out.push(r));
  s.flush((r) => void out.push(r));
  assert.equal(stalls > 0, true, 'the stall happened');
  assert.deepEqual(
    out.map((r) => r.body),
    [lines[0], lines[1], lines.slice(2, 14).join('\n'), lines[14], lines.slice(15, 18).join('\n'), lines[18]],
  );
  assert.deepEqual({ overBudget: counts.overBudget, bypassed: counts.bypassed }, { overBudget: 0, bypassed: 0 });
});

test('a flush emits the open records in the order their last lines came (their seqs rise)', () => {
  // stdout's split line opened first but its last piece came after stderr's: an output that skips
  // a record whose seq is at or below one it wrote for the source would drop stderr's otherwise.
  const lines = [
    '2024-03-01T10:00:00.000000000Z stdout P out-1 ',
    '2024-03-01T10:00:00.000000000Z stderr P err-1 ',
    '2024-03-01T10:00:00.000000000Z stdout P out-2',
  ];
  const { seqs } = join('cri', lines);
  assert.deepEqual(seqs, [2, 3]);
});
