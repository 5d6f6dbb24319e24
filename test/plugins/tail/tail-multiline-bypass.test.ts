/**
 * tail's multiline joiner keeps a stream whose parser is bypassed (a record went over
 * multiline_time_budget) across read batches: the bypass lasts its period, not one batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MultilineSet } from '../../../core/multiline/ml-registry.js';
import { RuleMachine } from '../../../core/multiline/ml-rules.js';
import type { LineBlock } from '../../../core/record.js';
import { TailJoiner } from '../../../plugins/tail/tail-multiline.js';
import type { TailFile } from '../../../plugins/tail/tail-file.js';

function block(lines: string[], base: number): LineBlock {
  const buf = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  const starts = new Uint32Array(lines.length);
  const ends = new Uint32Array(lines.length);
  const seqs = new Uint32Array(lines.length);
  let p = 0;
  lines.forEach((l, i) => {
    starts[i] = p;
    ends[i] = p + l.length;
    p += l.length + 1;
    seqs[i] = p;
  });
  return { buf, count: lines.length, starts, ends, seqs, base, flags: undefined, ascii: true, time: 1n, path: '/x.log', src: 's1', pathKey: '' };
}

test('a bypass after a record over the budget outlives the read batch', () => {
  // Catastrophic backtracking on a run of "a" without a "b": hundreds of ms per line.
  const set = new MultilineSet([{ name: 'slow', rules: new RuleMachine([['start_state', '^(a+)+b', 'start_state']]), flushMs: 1000, key: 'log' }]);
  const j = new TailJoiner({ machine: set.machine('slow'), limits: { maxLines: 1000, maxBytes: 1 << 20, budgetMs: 5, bypassMs: 60_000 } });
  const bad = `${'a'.repeat(21)}c`;
  const file = { src: 's1', offset: 0, queue: { emitted: 0 } } as unknown as TailFile;
  const first = block([bad, bad], 0);
  (file as { offset: number }).offset = first.seqs[1]!;
  assert.equal(j.lines(file, first, 't').records.length, 2);
  assert.deepEqual({ overBudget: j.counts.overBudget, bypassed: j.counts.bypassed }, { overBudget: 1, bypassed: 1 });
  // The next batch: without the stream kept, a new one runs the bad pattern again (over budget twice).
  const second = block([bad, bad, bad], first.seqs[1]!);
  assert.equal(j.lines(file, second, 't').records.length, 3);
  assert.deepEqual({ overBudget: j.counts.overBudget, bypassed: j.counts.bypassed }, { overBudget: 1, bypassed: 4 });
});
