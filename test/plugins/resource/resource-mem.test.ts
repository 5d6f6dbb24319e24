import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { loadMemSource, memUsage } from '../../../plugins/resource/resource-mem.js';

const base = {
  total: 1024 * 1048576,
  free: 100 * 1048576,
  used: 924 * 1048576,
  active: 361 * 1048576,
  available: 663 * 1048576,
  buffcache: 0,
  buffers: 0,
  cached: 0,
  slab: 0,
  reclaimable: 0,
  swaptotal: 0,
  swapused: 0,
  swapfree: 0,
  writeback: null,
  dirty: null,
};

test('used is total - MemAvailable (page cache is not used memory)', () => {
  const m = memUsage(base);
  assert.equal(m.total, 1024 * 1048576);
  assert.equal(m.available, 663 * 1048576);
  assert.equal(m.used, 361 * 1048576);
  assert.equal(m.pct, 35.25);
});

test('nonsense input is clamped', () => {
  const m = memUsage({ ...base, total: 0, available: 5 });
  assert.equal(m.pct, 0);
  assert.equal(m.used, 0);
  const n = memUsage({ ...base, available: base.total * 2 });
  assert.equal(n.used, 0);
});

test('systeminformation mem() agrees with /proc/meminfo', async () => {
  const src = await loadMemSource();
  const m = memUsage(await src());
  const info = await readFile('/proc/meminfo', 'latin1');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(info)![1]) * 1024;
  assert.equal(m.total, kb('MemTotal'));
  // MemAvailable moves between the two reads: within 64 MiB
  assert.ok(Math.abs(m.available - kb('MemAvailable')) < 64 * 1048576);
  assert.ok(m.pct > 0 && m.pct < 100);
  assert.equal(await loadMemSource(), src);
});
