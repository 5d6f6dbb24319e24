// Times keep their nanoseconds and integers their value in every output that prints JSON (issue 13):
// core's isoTimeNs and toJson, which stdout, rotated-file, templates, http and nats share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoTimeNs, toJson } from '../../core/record.js';
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
