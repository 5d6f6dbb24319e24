import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateWindow } from '../../../plugins/rate/rate-window.js';

function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

test('a quiet key may burst rate x window, then gets rate per interval on average', () => {
  const c = clock();
  const w = new RateWindow({ rate: 10, window: 5, intervalMs: 1000, maxKeys: 10, now: c.now });
  assert.equal(w.take('a', 100), 50); // the whole window's budget
  assert.equal(w.take('a', 1), 0);
  c.t = 1000;
  assert.equal(w.take('a', 100), 0); // the burst's slot is still in the window
  c.t = 5000; // slot 0 (the burst) left the window
  assert.equal(w.take('a', 100), 50);
  // steady overload: per interval, on average `rate` pass
  let passed = 0;
  for (let s = 6; s < 106; s++) {
    c.t = s * 1000;
    passed += w.take('a', 1000);
  }
  assert.ok(Math.abs(passed / 100 - 10) <= 0.5 + 50 / 100, `average ${passed / 100} per interval`);
});

test('steady traffic below the rate always passes', () => {
  const c = clock();
  const w = new RateWindow({ rate: 10, window: 3, intervalMs: 100, maxKeys: 10, now: c.now });
  for (let s = 0; s < 50; s++) {
    c.t = s * 100 + 50;
    assert.equal(w.take('k', 9), 9);
  }
});

test('window 1 is a plain per-interval limit', () => {
  const c = clock();
  const w = new RateWindow({ rate: 3, window: 1, intervalMs: 1000, maxKeys: 10, now: c.now });
  assert.equal(w.take('a', 5), 3);
  c.t = 999;
  assert.equal(w.take('a', 5), 0);
  c.t = 1000;
  assert.equal(w.take('a', 5), 3);
});

test('fractional rates: a record passes while the average is below the rate', () => {
  const c = clock();
  const w = new RateWindow({ rate: 0.5, window: 4, intervalMs: 1000, maxKeys: 10, now: c.now });
  assert.equal(w.take('a', 10), 2);
  c.t = 4000;
  assert.equal(w.take('a', 1), 1);
  assert.equal(w.take('a', 1), 1);
  assert.equal(w.take('a', 1), 0);
});

test('keys are independent', () => {
  const c = clock();
  const w = new RateWindow({ rate: 1, window: 2, intervalMs: 1000, maxKeys: 10, now: c.now });
  assert.equal(w.take('a', 5), 2);
  assert.equal(w.take('b', 5), 2);
  assert.equal(w.take('a', 5), 0);
  assert.equal(w.size, 2);
});

test('waitMs: until the oldest counted slot leaves the window', () => {
  const c = clock(250);
  const w = new RateWindow({ rate: 2, window: 3, intervalMs: 1000, maxKeys: 10, now: c.now });
  assert.equal(w.waitMs('x'), 0);
  w.take('x', 1); // slot 0
  c.t = 1500;
  w.take('x', 5); // slot 1: 5 of room left => full
  assert.equal(w.take('x', 1), 0);
  assert.equal(w.waitMs('x'), 1500); // slot 0 leaves at 3000
  c.t = 3000;
  assert.equal(w.waitMs('x'), 0);
  assert.equal(w.take('x', 5), 1); // only slot 0's one record freed
  assert.equal(w.waitMs('x'), 1000); // slot 1 leaves at 4000
});

test('max_keys: least recently used key is evicted; its unreported drops are kept in an aggregate', () => {
  const c = clock();
  const w = new RateWindow<{ path: string }>({ rate: 1, window: 1, intervalMs: 1000, maxKeys: 2, now: c.now });
  w.take('a', 2);
  w.dropped('a', 1, 'tag.a', { path: 'a' });
  w.take('b', 2);
  w.dropped('b', 1, 'tag.b', { path: 'b' });
  w.take('a', 1); // touch a: b is now least recently used
  w.dropped('a', 1, 'tag.a', { path: 'a2' });
  w.take('c', 1); // evicts b
  assert.equal(w.size, 2);
  assert.equal(w.evictions, 1);
  const p = w.takePending();
  assert.deepEqual(p.keys, [{ key: 'a', dropped: 2, tag: 'tag.a', meta: { path: 'a2' } }]);
  assert.deepEqual(p.evicted, { key: '', dropped: 1, keys: 1, tag: 'tag.b', meta: { path: 'b' } });
  // reset after reporting
  assert.deepEqual(w.takePending(), { keys: [], evicted: { key: '', dropped: 0, keys: 0, tag: '', meta: undefined } });
  // an evicted key comes back with a fresh window
  assert.equal(w.take('b', 5), 1);
});

test('many keys: state stays bounded', () => {
  const c = clock();
  const w = new RateWindow({ rate: 1, window: 5, intervalMs: 1000, maxKeys: 100, now: c.now });
  for (let i = 0; i < 10_000; i++) w.take(`k${i}`, 1);
  assert.equal(w.size, 100);
  assert.equal(w.evictions, 9_900);
});
