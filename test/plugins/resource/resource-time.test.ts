// The resource line starts with the sample time (issue 12: lines carried none), in the format chosen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTime } from '../../../plugins/resource/resource-format.js';

const MS = Date.UTC(2026, 11, 5, 8, 0, 15, 2); // 2026-12-05T08:00:15.002Z

test('time_format: each format of the same instant', (t) => {
  const tz = process.env.TZ;
  t.after(() => (tz === undefined ? delete process.env.TZ : (process.env.TZ = tz)));
  assert.equal(formatTime(MS, 'iso8601'), '2026-12-05T08:00:15.002Z ');
  assert.equal(formatTime(MS, 'epoch'), '1796457615.002 ');
  assert.equal(formatTime(MS, 'epoch_ms'), '1796457615002 ');
  assert.equal(formatTime(MS, 'none'), '');
  process.env.TZ = 'Asia/Kolkata'; // +05:30: the offset's minutes count
  assert.equal(formatTime(MS, 'iso8601_local'), '2026-12-05T13:30:15.002+05:30 ');
  process.env.TZ = 'America/St_Johns'; // -03:30 in December
  assert.equal(formatTime(MS, 'iso8601_local'), '2026-12-05T04:30:15.002-03:30 ');
});
