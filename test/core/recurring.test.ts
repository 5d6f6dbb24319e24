// Recurring: a problem that keeps happening is logged once, then summed up once per period, and
// said to be over once (the dial failures of core/transport, the vsock input's unseal problems).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recurring } from '../../core/recurring.js';

test('recurring: the first in full, then one summary per period with the count since the last line', () => {
  let now = 1_000_000;
  const r = new Recurring(30_000, () => now);
  assert.equal(r.add('a'), true, 'the first: log it');
  assert.equal(r.due(), undefined, 'nothing more happened');
  for (let i = 0; i < 999; i++) assert.equal(r.add(`b${i}`), false);
  assert.equal(r.due(), undefined, 'within the period: counted, not logged');
  now += 30_000;
  assert.deepEqual(r.due(), { count: 999, seconds: 30 });
  assert.equal(r.last, 'b998');
  assert.equal(r.due(), undefined, 'taken');
  now += 60_000;
  assert.equal(r.due(), undefined, 'quiet: no summary');
  r.add('c');
  assert.deepEqual(
    r.due(),
    { count: 1, seconds: 60 },
    'after a quiet period the next one is logged at once (with the latest text), over the time since the last line',
  );
  assert.deepEqual(r.reset(), { count: 1001, unsummed: 0, seconds: 90 });
  assert.equal(r.reset(), undefined, 'over');
  assert.equal(r.add('d'), true, 'a new first');
});
