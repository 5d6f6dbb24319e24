import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import redact from '../../../plugins/redact/index.js';
import { ConfigError, createHarness } from '../../../core/testing/index.js';
import { chunkBytes } from '../../../core/record.js';

const harness = (options: Record<string, unknown> = {}) => createHarness(redact, { options, tag: 'app' });
const bodies = (recs: { body: unknown }[]) => recs.map((r) => r.body);
const AWS = 'AKIAIOSFODNN7EXAMPLE';

async function hashed(key: string, lines: string[], options: Record<string, unknown> = {}): Promise<string[]> {
  process.env.QLOG_TEST_REDACT_KEY = key;
  const h = await harness({ mode: 'hash', hash_key_env: 'QLOG_TEST_REDACT_KEY', ...options });
  try {
    return bodies(await h.filter(lines)) as string[];
  } finally {
    await h.stop();
  }
}

test('hash: the same secret gives the same token, another secret or another key another token', async () => {
  const [a, b, c] = await hashed('k1', [`id ${AWS}`, `again ${AWS}`, 'other AKIAJSIE27KKMHXI3BJQ']);
  assert.match(a!, /^id \[REDACTED:aws_key:[0-9a-f]{8}\]$/);
  assert.equal(b, a!.replace('id', 'again'));
  assert.notEqual(c!.slice(6), a!.slice(3));
  const [other] = await hashed('k2', [`id ${AWS}`]);
  assert.match(other!, /^id \[REDACTED:aws_key:[0-9a-f]{8}\]$/);
  assert.notEqual(other, a);
});

test('hash: the key from a file (trailing newline ignored) equals the same key from the environment; hash_chars and replacement', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qlog-redact-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'key');
  writeFileSync(file, 'k1\n');
  const h = await harness({ mode: 'hash', hash_key_file: file, hash_chars: 16, replacement: '<${rule}#${hash}>' });
  t.after(() => h.stop());
  const [fromFile] = bodies(await h.filter([AWS])) as string[];
  const [fromEnv] = await hashed('k1', [AWS], { hash_chars: 16, replacement: '<${rule}#${hash}>' });
  assert.match(fromFile!, /^<aws_key#[0-9a-f]{16}>$/);
  assert.equal(fromFile, fromEnv);
});

test('hash: a missing key fails at start, naming where the key was expected', async () => {
  delete process.env.QLOG_TEST_REDACT_UNSET;
  await assert.rejects(harness({ mode: 'hash', hash_key_env: 'QLOG_TEST_REDACT_UNSET' }), /QLOG_TEST_REDACT_UNSET \(hash_key_env\) is not set/);
});

test('counters per rule; records and bytes follow', async (t) => {
  const h = await harness({ patterns: [{ name: 'order', regex: 'ord_[0-9a-f]{8}' }] });
  t.after(() => h.stop());
  const out = await h.filter([`${AWS} ${AWS}`, 'card 4111111111111111 ord_deadbeef', 'nothing here']);
  assert.deepEqual(bodies(out), ['[REDACTED:aws_key] [REDACTED:aws_key]', 'card [REDACTED:credit_card] [REDACTED:order]', 'nothing here']);
  assert.equal(h.counters.redact_aws_key, 2);
  assert.equal(h.counters.redact_credit_card, 1);
  assert.equal(h.counters.redact_order, 1);
  assert.equal(h.counters.redact_records, 2);
  assert.equal(h.counters.bytes_out, chunkBytes(out));
});

test('user pattern: a (?<secret>) group masks only that part; flags apply', async (t) => {
  const h = await harness({ detectors: [], patterns: [{ name: 'pin', regex: 'pin=(?<secret>\\d{4})\\b', flags: 'i' }] });
  t.after(() => h.stop());
  assert.deepEqual(bodies(await h.filter(['PIN=1234 ok', 'pin=12345'])), ['PIN=[REDACTED:pin] ok', 'pin=12345']);
});

test('object records: every string value at any depth, or only `keys`; input objects are not changed', async (t) => {
  const h = await harness();
  t.after(() => h.stop());
  const body = { log: `k ${AWS}`, req: { headers: { authorization: 'Bearer abcdefgh12345' }, tags: ['x', AWS] }, n: 4111111111111111 };
  assert.deepEqual(bodies(await h.filter([body])), [
    { log: 'k [REDACTED:aws_key]', req: { headers: { authorization: 'Bearer [REDACTED:bearer]' }, tags: ['x', '[REDACTED:aws_key]'] }, n: 4111111111111111 },
  ]);
  const g = await harness({ keys: ['log'] });
  t.after(() => g.stop());
  assert.deepEqual(bodies(await g.filter([{ log: AWS, other: AWS }])), [{ log: '[REDACTED:aws_key]', other: AWS }]);
});

test('time_budget: a pattern over budget is skipped for the rest of the chunk; records flagged and counted', async (t) => {
  // Slow but legal: up to 200 a's then x, on lines of a's without an x (~200 steps per position).
  const h = await harness({ detectors: [], time_budget: '1ms', patterns: [{ name: 'slow', regex: 'a{1,200}x' }] });
  t.after(() => h.stop());
  const lines = Array.from({ length: 200 }, () => 'a'.repeat(5000));
  const out = await h.filter(lines);
  assert.equal(out.length, 200);
  const flagged = out.filter((r) => r.meta.redact_incomplete === true).length;
  assert.ok(flagged > 0 && flagged < 200, `flagged ${flagged}`);
  assert.equal(h.counters.redact_incomplete_records, flagged);
  assert.equal(h.counters.redact_over_budget_slow, 1);
});

for (const [name, options, re] of [
  ['an invalid user regex', { patterns: [{ name: 'bad', regex: '(unclosed' }] }, /patterns: pattern "bad" is not a valid regular expression/],
  ['a nested quantifier', { patterns: [{ name: 'redos', regex: '(a+)+b' }] }, /pattern "redos" has a repeated group/],
  ['a pattern matching nothing', { patterns: [{ name: 'empty', regex: 'x*' }] }, /pattern "empty" matches the empty string/],
  [
    'a duplicate pattern name',
    {
      patterns: [
        { name: 'a', regex: 'x' },
        { name: 'a', regex: 'y' },
      ],
    },
    /pattern name "a" is used twice/,
  ],
  ['mode hash without a key', { mode: 'hash' }, /mode hash needs exactly one of hash_key_file or hash_key_env/],
  ['${hash} in mode text', { replacement: '[${hash}]' }, /\$\{hash\} needs mode: hash/],
  ['an unknown placeholder', { replacement: '[${rul}]' }, /unknown placeholder at column 2/],
  ['an unknown detector', { detectors: ['aws'] }, /detectors/],
  ['an unknown option', { patern: [] }, /unknown key "patern" \(did you mean "patterns"\?\)/],
] as const) {
  test(`config error: ${name}`, async () => {
    await assert.rejects(harness(options), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  });
}

test('50k lines through the default detectors: per-record cost stays small', async (t) => {
  const h = await harness();
  t.after(() => h.stop());
  const recs = Array.from({ length: 50_000 }, (_, i) => `2026-12-05T02:00:00Z INFO request ${i} from 10.0.0.${i % 255} took 12ms user=alice`);
  const t0 = performance.now();
  const out = await h.filter(recs);
  const ms = performance.now() - t0;
  assert.equal(out.length, 50_000);
  assert.ok(ms < 3000, `${ms} ms`);
});
