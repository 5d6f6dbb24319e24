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

test('regrown: idle, RSS 768 KiB past what the last give-back left, at most once per 30 s', () => {
  const KiB = 1024;
  const MiB = 1024 * KiB;
  /** Idle from the start; after the idle give-back at 8 s (it leaves 49 MiB), RSS creeps by `creep` KiB/s and nothing comes back. */
  const run = (creep: number): [number, string][] => {
    const p = new GiveBackPolicy(0);
    const got: [number, string][] = [];
    const rssAt = (s: number) => (s <= 8 ? 52 * MiB : 49 * MiB + (s - 8) * creep * KiB);
    for (let s = 1; s <= 200; s++) {
      const why = p.sample(s * 1000, 0, rssAt(s));
      if (!why) continue;
      got.push([s, why]);
      p.reduced(why, why === 'idle' ? 49 * MiB : rssAt(s));
    }
    return got;
  };
  // 25 KiB/s (an idle agent's timers): 768 KiB after ~31 s, each time from what was left (the
  // floor rises when nothing could be given back): 39 s, 70 s, ...
  assert.deepEqual(run(25), [
    [8, 'idle'],
    [39, 'regrown'],
    [70, 'regrown'],
    [101, 'regrown'],
    [132, 'regrown'],
    [163, 'regrown'],
    [194, 'regrown'],
  ]);
  // 100 KiB/s: past 768 KiB within 8 s, but at most once per 30 s.
  assert.deepEqual(run(100), [
    [8, 'idle'],
    [38, 'regrown'],
    [68, 'regrown'],
    [98, 'regrown'],
    [128, 'regrown'],
    [158, 'regrown'],
    [188, 'regrown'],
  ]);
});

test('regrown: never while records flow, nor before an idle give-back', () => {
  const MiB = 1024 * 1024;
  const p = new GiveBackPolicy(0);
  // Busy from the start, RSS growing: no idle give-back, no regrown.
  let n = 0;
  for (let s = 1; s <= 120; s++) {
    n += 5000 + ((s * 7919) % 1000) - 500;
    assert.equal(p.sample(s * 1000, n, (50 + s) * MiB), undefined, `second ${s}`);
  }
  // Idle: the give-back, then growth: regrown once past the floor ...
  const q = new GiveBackPolicy(0);
  assert.equal(q.sample(8000, 0, 60 * MiB), 'idle');
  q.reduced('idle', 50 * MiB);
  assert.equal(q.sample(30_000, 0, 51.5 * MiB), undefined, 'within 30 s');
  assert.equal(q.sample(38_000, 0, 50.5 * MiB), undefined, 'less than 768 KiB past the floor');
  assert.equal(q.sample(39_000, 0, 51.5 * MiB), 'regrown');
  // It could not give back (51.4 MiB left): not tried again until another 768 KiB has grown.
  q.reduced('regrown', 51.4 * MiB);
  assert.equal(q.sample(100_000, 0, 52 * MiB), undefined, 'the floor rose to what was left');
  assert.equal(q.sample(101_000, 0, 52.2 * MiB), 'regrown');
  q.reduced('regrown', 49.5 * MiB);
  // ... and records in between forget the floor: growth while busy is not 'regrown'.
  assert.equal(q.sample(102_000, 500, 60 * MiB), undefined);
  assert.equal(q.sample(200_000, 500, 60 * MiB), undefined);
});
