import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommitQueue } from '../../../plugins/tail/tail-commit.js';

test('committed offset is the end of the longest settled prefix', () => {
  const q = new CommitQueue(10);
  const a = q.push(20);
  const b = q.push(30);
  const c = q.push(40);
  assert.equal(q.emitted, 40);
  assert.equal(q.settle(b), false);
  assert.equal(q.committed, 10);
  assert.equal(q.settle(a), true);
  assert.equal(q.committed, 30);
  assert.equal(q.settle(a), false); // twice: no effect
  assert.equal(q.settle(c), true);
  assert.equal(q.committed, 40);
  assert.equal(q.pending, 0);
});

test('random settle order over many chunks; compaction keeps tickets valid', () => {
  const q = new CommitQueue(0);
  const tickets: number[] = [];
  for (let i = 1; i <= 5000; i++) tickets.push(q.push(i * 10));
  const order = tickets.map((t, i) => [t, (i * 7919) % 5000] as const).sort((x, y) => x[1] - y[1]);
  let max = 0;
  const settled = new Set<number>();
  for (const [t] of order) {
    q.settle(t);
    settled.add(t);
    let k = 0;
    while (settled.has(tickets[k]!)) k++;
    const want = k === 0 ? 0 : k * 10;
    assert.equal(q.committed, want);
    assert.ok(q.committed >= max);
    max = q.committed;
  }
  assert.equal(q.committed, 50000);
  const t = q.push(50010);
  q.settle(t);
  assert.equal(q.committed, 50010);
});
