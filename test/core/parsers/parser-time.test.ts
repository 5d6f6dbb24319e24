import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTimeFormat, TimeFormatError } from '../../../core/parsers/parser-time.js';

const ns = (iso: string, frac = 0n) => BigInt(Date.parse(iso)) * 1_000_000n + frac;

test('ISO 8601 with %L up to nanoseconds and %z as Z, +hh:mm or +hhmm', () => {
  const f = compileTimeFormat('%Y-%m-%dT%H:%M:%S.%L%z');
  assert.equal(f('2023-10-06T00:17:09.669794202Z'), ns('2023-10-06T00:17:09Z', 669794202n));
  assert.equal(f('2003-10-11T22:14:15.003+02:00'), ns('2003-10-11T20:14:15Z', 3_000_000n));
  assert.equal(f('2003-10-11T22:14:15.5-0130'), ns('2003-10-11T23:44:15Z', 500_000_000n));
  // ".%L" is optional: RFC 5424 / RFC 3339 times may have no fraction.
  assert.equal(f('2003-10-11T22:14:15Z'), ns('2003-10-11T22:14:15Z'));
  assert.equal(f('not a time'), undefined);
});

test('access log time (%d/%b/%Y:%H:%M:%S %z), epoch %s, 12-hour clock', () => {
  assert.equal(compileTimeFormat('%d/%b/%Y:%H:%M:%S %z')('10/Oct/2000:13:55:36 -0700'), ns('2000-10-10T20:55:36Z'));
  assert.equal(compileTimeFormat('%s.%L')('1700000000.25'), 1_700_000_000_250_000_000n);
  assert.equal(compileTimeFormat('%F %I:%M %p')('2024-02-29 01:05 PM'), ns('2024-02-29T13:05:00Z'));
  assert.equal(compileTimeFormat('%a, %d %B %Y %T %Z')('Tue, 05 March 2024 10:00:00 GMT'), ns('2024-03-05T10:00:00Z'));
});

test('a year-less syslog time takes the current year; days padded with a space', () => {
  const y = new Date().getUTCFullYear();
  assert.equal(compileTimeFormat('%b %d %H:%M:%S')('Oct  1 22:14:15'), ns(`${y}-10-01T22:14:15Z`));
});

test('an unknown directive is rejected when compiled', () => {
  assert.throws(
    () => compileTimeFormat('%Y-%Q'),
    (e: unknown) => e instanceof TimeFormatError && /"%Q"/.test(e.message),
  );
});
