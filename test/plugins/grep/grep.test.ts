import { test } from 'node:test';
import assert from 'node:assert/strict';
import grep from '../../../plugins/grep/index.js';
import { ConfigError, createHarness } from '../../../core/testing/index.js';

const harness = (options: Record<string, unknown>) => createHarness(grep, { options, tag: 'app' });
const bodies = (recs: { body: unknown }[]) => recs.map((r) => r.body);

async function run(options: Record<string, unknown>, input: unknown[]): Promise<unknown[]> {
  const h = await harness(options);
  try {
    return bodies(await h.filter(input as string[]));
  } finally {
    await h.stop();
  }
}

test('regex on a line record: `log` is the line; other keys are missing', async () => {
  assert.deepEqual(await run({ regex: 'log ^aa' }, ['aaa', 'aab', 'bbb']), ['aaa', 'aab']);
  assert.deepEqual(await run({ regex: 'level x' }, ['x', 'y']), []);
  assert.deepEqual(await run({ regex: '$log b{2}' }, ['abb', 'ab']), ['abb']);
});

test('exclude drops matching records; a missing key never matches', async () => {
  assert.deepEqual(await run({ exclude: 'log DEBUG' }, ['DEBUG a', 'INFO b', { level: 'x' }]), ['INFO b', { level: 'x' }]);
});

test('fields: top-level, dotted, record accessor; numbers and booleans match as text', async () => {
  const recs = [
    { log: 'a', k8s: { labels: { app: 'web' } }, code: 500, ok: false },
    { log: 'b', k8s: { labels: { app: 'db' } }, code: 200, ok: true },
    { log: 'c', k8s: 'flat' },
  ];
  assert.deepEqual(await run({ regex: 'k8s.labels.app ^web$' }, recs), [recs[0]]);
  assert.deepEqual(await run({ regex: "$k8s['labels']['app'] ^db$" }, recs), [recs[1]]);
  assert.deepEqual(await run({ regex: 'code ^5\\d\\d$' }, recs), [recs[0]]);
  assert.deepEqual(await run({ exclude: 'ok true' }, recs), [recs[0], recs[2]]);
  assert.deepEqual(await run({ regex: 'k8s.labels ^' }, recs), []); // an object is not a value to match
});

test('a pattern may hold spaces: everything after the key', async () => {
  assert.deepEqual(await run({ regex: 'log ^GET /x HTTP' }, ['GET /x HTTP/1.1', 'GET /y HTTP/1.1']), ['GET /x HTTP/1.1']);
});

test('legacy (default): every regex must match and no exclude may', async () => {
  const input = ['error db', 'error web', 'info db', 'error db timeout'];
  assert.deepEqual(await run({ regex: ['log error', 'log db'], exclude: ['log timeout', 'log nothing'] }, input), ['error db']);
});

test('logical_op and / or, for regex and for exclude', async () => {
  const input = ['error db', 'error web', 'info db', 'info web'];
  assert.deepEqual(await run({ regex: ['log error', 'log db'], logical_op: 'and' }, input), ['error db']);
  assert.deepEqual(await run({ regex: ['log error', 'log db'], logical_op: 'or' }, input), ['error db', 'error web', 'info db']);
  assert.deepEqual(await run({ exclude: ['log error', 'log db'], logical_op: 'and' }, input), ['error web', 'info db', 'info web']);
  assert.deepEqual(await run({ exclude: ['log error', 'log db'], logical_op: 'or' }, input), ['info web']);
});

test('no rules: records pass unchanged; dropped records are counted', async (t) => {
  assert.deepEqual(await run({}, ['a', 'b']), ['a', 'b']);
  const h = await harness({ exclude: 'log ^x' });
  t.after(() => h.stop());
  await h.filter(['x1', 'a', 'x2']);
  assert.equal(h.counters.dropped_records, 2);
});

const rejects = (options: Record<string, unknown>, re: RegExp) =>
  assert.rejects(harness(options), (e: unknown) => e instanceof ConfigError && re.test(e.message));

test('config errors: bad regex, missing pattern, bad accessor, and/or mixing kinds', async () => {
  await rejects({ regex: 'log (' }, /regex: invalid regular expression "\(": .*Unterminated group/);
  await rejects({ exclude: ['log a', 'log'] }, /exclude: expected "KEY PATTERN", found "log"/);
  await rejects({ regex: "$a['b' x" }, /regex: key .* expected \['name'\]/);
  await rejects({ regex: 'a..b x' }, /regex: key "a\.\.b" has an empty part/);
  await rejects({ regex: 'log a', exclude: 'log b', logical_op: 'or' }, /logical_op: "or" combines rules of one kind/);
  await rejects({ logical_op: 'xor' }, /logical_op/);
});

test('unknown option is rejected', async () => {
  await rejects({ regexp: 'log a' }, /unknown key "regexp" \(did you mean "regex"\?\)/);
});

test('50k records through the engine: per-record cost stays small', async (t) => {
  const h = await harness({ regex: ['log ^line', 'log [02468]$'], exclude: 'log 00$' });
  t.after(() => h.stop());
  const recs = Array.from({ length: 50_000 }, (_, i) => `line ${i}`);
  const t0 = performance.now();
  const out = await h.filter(recs);
  const ms = performance.now() - t0;
  assert.equal(out.length, 25_000 - 499); // even endings, less 100, 200 ... 49900
  assert.ok(ms < 2000, `${ms} ms`);
});
