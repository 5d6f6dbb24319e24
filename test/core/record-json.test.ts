// Times keep their nanoseconds and integers their value in every output that prints JSON (issue 13):
// core's isoTimeNs and toJson, which stdout, rotated-file, templates, http and nats share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoTimeNs, isoUtcSeconds, toJson } from '../../core/record.js';
import { documentJson } from '../../plugins/http/http-format.js';

test('isoTimeNs: nine fraction digits, right across second boundaries (its per-second cache)', () => {
  const t = 1_700_000_000_123_456_789n;
  assert.equal(isoTimeNs(t), '2023-11-14T22:13:20.123456789Z');
  assert.equal(isoTimeNs(t + 1n), '2023-11-14T22:13:20.123456790Z', 'same second, from the cache');
  assert.equal(isoTimeNs(t + 876_543_211n), '2023-11-14T22:13:21.000000000Z', 'the next second');
  assert.equal(isoTimeNs(t), '2023-11-14T22:13:20.123456789Z', 'back to the earlier second');
  assert.equal(isoTimeNs(5n), '1970-01-01T00:00:00.000000005Z');
  assert.equal(isoTimeNs(-1n), '');
  assert.equal(isoTimeNs(10n ** 30n), '', 'out of Date range');
});

test('isoUtcSeconds: what Date gives, at the calendar edges and at random', () => {
  const date = (sec: number): string => new Date(sec * 1000).toISOString().slice(0, -5);
  const day = 86_400;
  const edges: [number, string][] = [
    [0, 'the epoch'],
    [-1, 'the second before it'],
    [day - 1, 'the first day, its last second'],
    [951_782_400, '2000-02-29 (a 400-year leap day)'],
    [951_868_800, '2000-03-01'],
    [4_107_456_000, '2100-02-28'],
    [4_107_542_400, '2100-03-01 (2100 has no leap day)'],
    [1_709_251_199, '2024-02-29, its last second'],
    [1_735_689_600, 'New Year 2025'],
    [-62_167_219_200, '0000-01-01, the first second written with 4 digits'],
    [253_402_300_799, '9999-12-31T23:59:59, the last'],
    [253_402_300_800, '10000-01-01: Date writes +010000'],
    [-62_167_219_201, 'before year 0: Date writes -000001'],
  ];
  for (const [sec, what] of edges) assert.equal(isoUtcSeconds(sec), date(sec), what);
  let x = 12345;
  for (let i = 0; i < 20_000; i++) {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    const sec = Math.floor((x / 2 ** 31) * 253_402_300_800 * 1.1) - 62_167_219_200;
    assert.equal(isoUtcSeconds(sec), date(sec), `second ${sec}`);
  }
  assert.equal(isoUtcSeconds(1_700_000_000.9), '2023-11-14T22:13:20', 'a fraction is cut, as Date does');
  assert.equal(isoUtcSeconds(Number.NaN), '');
  assert.equal(isoUtcSeconds(Number.POSITIVE_INFINITY), '');
  assert.equal(isoUtcSeconds(1e300), '', 'out of Date range');
});

test('toJson: bigints as plain integers, everything else as JSON.stringify', () => {
  assert.equal(toJson({ n: 9007199254740993n, s: 'x', a: [1n, 2] }), '{"n":9007199254740993,"s":"x","a":[1,2]}');
  assert.equal(toJson({ s: '9007199254740993n' }), '{"s":"9007199254740993n"}', 'a string that looks like one stays a string');
  assert.equal(toJson({ a: 1 }), '{"a":1}');
});

test('http documents carry both: nanosecond time, int64 value', () => {
  const doc = documentJson(
    { time: 1_700_000_000_123_456_789n, tag: 'app', body: { big: 9007199254740993n, msg: 'hi' }, meta: {} },
    { timeKey: '@timestamp', tagKey: 'tag', includeMeta: false },
  );
  assert.equal(doc, '{"@timestamp":"2023-11-14T22:13:20.123456789Z","tag":"app","big":9007199254740993,"msg":"hi"}');
});
