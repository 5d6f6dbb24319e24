// When the agent gives memory back (GiveBackPolicy in core/memory.ts): once idle, and once a
// catch-up has settled while records keep flowing; never on a steady busy agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GiveBackPolicy } from '../../core/memory.js';

/** Feed the policy one sample a second, `rates[i]` records taken in during second i; the give-backs as [second, reason]. */
function drive(rates: number[], policy = new GiveBackPolicy(0), from = 0, n0 = 0): [number, string][] {
  const out: [number, string][] = [];
  let n = n0;
  rates.forEach((r, i) => {
    n += r;
    const why = policy.sample((from + i + 1) * 1000, n);
    if (why) out.push([from + i + 1, why]);
  });
  return out;
}

const steady = (s: number, rate = 5000) => Array.from({ length: s }, (_, i) => rate + ((i * 7919) % 1000) - 500);

test('a steady busy agent is never collected', () => {
  assert.deepEqual(drive(steady(300)), []);
  // Nor one whose rate wanders by half.
  assert.deepEqual(drive(Array.from({ length: 300 }, (_, i) => (i % 4 < 2 ? 6000 : 3000))), []);
});

test('idle: once after startup, not again while quiet, again after a busy period', () => {
  const p = new GiveBackPolicy(0);
  assert.deepEqual(drive(Array(60).fill(0), p), [[8, 'idle']]);
  assert.deepEqual(drive([...Array(5).fill(1000), ...Array(20).fill(0)], p, 60, 0), []); // 5,000 records: not worth it
  assert.deepEqual(drive([...Array(10).fill(1000), ...Array(20).fill(0)], p, 85, 5000), [[103, 'idle']]);
});

test('a trickle (a resource input sampling every 5 s) counts as idle', () => {
  const p = new GiveBackPolicy(0);
  const trickle = (s: number) => Array.from({ length: s }, (_, i) => (i % 5 === 0 ? 1 : 0));
  assert.deepEqual(drive(trickle(60), p), [[8, 'idle']]);
  // After a busy period, a trickle is idle again.
  assert.deepEqual(drive([...Array(10).fill(1000), ...Array(20).fill(10)], p, 60, 12), [[78, 'idle']]);
  // 10 records/s is still idle, 11 is not.
  assert.deepEqual(drive(Array(30).fill(10)), [[8, 'idle']]);
  assert.deepEqual(drive(Array(30).fill(11)), []);
});

test('a catch-up that ends while records keep flowing is followed by one give-back', () => {
  // 20 s at 5,000/s, the output stalled (tail paused: nothing in) for 15 s, an 80,000-record
  // catch-up, then 5,000/s again for a minute: idle during the stall, settled 5 s after the peak.
  const got = drive([...steady(20), ...Array(15).fill(0), 60_000, 20_000, ...steady(60)]);
  assert.deepEqual(got, [
    [28, 'idle'],
    [41, 'settled'],
  ]);
});

test('a backlog read at startup settles the same way', () => {
  assert.deepEqual(drive([150_000, 50_000, ...steady(60)]), [[6, 'settled']]);
});

test('a load that keeps swinging is collected at most once per 30 s', () => {
  const swings = Array.from({ length: 120 }, (_, i) => (i % 12 < 2 ? 30_000 : 5000));
  const got = drive(swings);
  assert.ok(got.length >= 2 && got.length <= 4, JSON.stringify(got));
  for (let i = 1; i < got.length; i++) assert.ok(got[i]![0] - got[i - 1]![0] >= 30, JSON.stringify(got));
});

test('a reload (counters from 0) starts over: idle gives back again', () => {
  const p = new GiveBackPolicy(0);
  assert.deepEqual(drive(Array(10).fill(0), p), [[8, 'idle']]);
  assert.deepEqual(drive([3000, ...Array(11).fill(0)], p, 10), []); // 3,000 records: not worth it
  assert.equal(p.sample(23_000, 0), undefined); // the new pipeline counts from 0
  assert.deepEqual(drive(Array(10).fill(0), p, 23), [[31, 'idle']]);
});
