import { test } from 'node:test';
import assert from 'node:assert/strict';
import modify from '../../../plugins/modify/index.js';
import { ConfigError, createHarness } from '../../../core/testing/index.js';
import { chunkBytes } from '../../../core/record.js';

const harness = (options: Record<string, unknown>) => createHarness(modify, { options, tag: 'app' });

async function run(options: Record<string, unknown>, input: unknown[]): Promise<unknown[]> {
  const h = await harness(options);
  try {
    const out = await h.filter(structuredClone(input) as string[]);
    assert.equal(h.counters.bytes_out, chunkBytes(out));
    return out.map((r) => r.body);
  } finally {
    await h.stop();
  }
}

test('set replaces or adds; add only when absent; values may hold spaces', async () => {
  assert.deepEqual(await run({ set: ['env prod', 'note two words'] }, [{ env: 'dev', a: 1 }]), [{ env: 'prod', a: 1, note: 'two words' }]);
  assert.deepEqual(await run({ add: 'env prod' }, [{ env: 'dev' }, { a: 1 }]), [{ env: 'dev' }, { a: 1, env: 'prod' }]);
});

test('remove, remove_wildcard, remove_regex', async () => {
  const rec = { log: 'x', kube_pod: 'p', kube_ns: 'n', Mem_used: 1, Mem_free: 2, other: 3 };
  assert.deepEqual(await run({ remove: ['other', 'absent'] }, [rec]), [{ log: 'x', kube_pod: 'p', kube_ns: 'n', Mem_used: 1, Mem_free: 2 }]);
  assert.deepEqual(await run({ remove_wildcard: 'kube_*' }, [rec]), [{ log: 'x', Mem_used: 1, Mem_free: 2, other: 3 }]);
  assert.deepEqual(await run({ remove_regex: '^Mem_' }, [rec]), [{ log: 'x', kube_pod: 'p', kube_ns: 'n', other: 3 }]);
});

test('rename and copy leave an existing target; hard_ variants replace it', async () => {
  const recs = [{ a: 1 }, { a: 1, b: 2 }, { c: 3 }];
  assert.deepEqual(await run({ rename: 'a b' }, recs), [{ b: 1 }, { a: 1, b: 2 }, { c: 3 }]);
  assert.deepEqual(await run({ hard_rename: 'a b' }, recs), [{ b: 1 }, { b: 1 }, { c: 3 }]);
  assert.deepEqual(await run({ copy: 'a b' }, recs), [{ a: 1, b: 1 }, { a: 1, b: 2 }, { c: 3 }]);
  assert.deepEqual(await run({ hard_copy: 'a b' }, recs), [{ a: 1, b: 1 }, { a: 1, b: 1 }, { c: 3 }]);
});

test('rules run in the order their options appear', async () => {
  assert.deepEqual(await run({ rename: 'a b', set: 'a new' }, [{ a: 'old' }]), [{ b: 'old', a: 'new' }]);
  assert.deepEqual(await run({ set: 'a new', rename: 'a b' }, [{ a: 'old' }]), [{ b: 'new' }]);
});

test('conditions: every one must hold', async () => {
  const recs = [{ level: 'warn', code: 500 }, { level: 'info', code: 200 }, { code: 404 }];
  const tagged = (o: Record<string, unknown>) => run({ set: 'hit yes', ...o }, recs).then((out) => out.map((r) => (r as { hit?: string }).hit === 'yes'));
  assert.deepEqual(await tagged({ condition: 'key_exists level' }), [true, true, false]);
  assert.deepEqual(await tagged({ condition: 'key_does_not_exist level' }), [false, false, true]);
  assert.deepEqual(await tagged({ condition: 'key_value_equals code 500' }), [true, false, false]);
  assert.deepEqual(await tagged({ condition: 'key_value_does_not_equal level info' }), [true, false, true]);
  assert.deepEqual(await tagged({ condition: 'key_value_matches code ^[45]' }), [true, false, true]);
  assert.deepEqual(await tagged({ condition: 'key_value_does_not_match level ^w' }), [false, true, true]);
  assert.deepEqual(await tagged({ condition: ['key_exists level', 'key_value_matches code ^5'] }), [true, false, false]);
});

test('line records are {log: line}: they stay lines unless fields are added or log goes', async () => {
  assert.deepEqual(await run({ set: 'env prod' }, ['hello']), [{ log: 'hello', env: 'prod' }]);
  assert.deepEqual(await run({ set: 'log replaced' }, ['hello']), ['replaced']);
  assert.deepEqual(await run({ rename: 'log message' }, ['hello']), [{ message: 'hello' }]);
  assert.deepEqual(await run({ remove: 'log' }, ['hello']), [{}]);
  assert.deepEqual(await run({ set: 'env prod', condition: 'key_value_matches log ^ERR' }, ['ERR x', 'ok']), [{ log: 'ERR x', env: 'prod' }, 'ok']);
  assert.deepEqual(await run({ remove: 'env' }, ['hello']), ['hello']);
});

const rejects = (options: Record<string, unknown>, re: RegExp) =>
  assert.rejects(harness(options), (e: unknown) => e instanceof ConfigError && re.test(e.message));

test('config errors: bad regex, wrong arity, unknown condition', async () => {
  await rejects({ remove_regex: '[' }, /remove_regex: invalid regular expression "\[": .*Unterminated character class/);
  await rejects({ set: 'a', condition: 'key_value_matches a (' }, /condition: invalid regular expression "\("/);
  await rejects({ set: 'lonely' }, /set: expected "KEY VALUE", found "lonely"/);
  await rejects({ rename: 'a b c' }, /rename: expected "KEY NEW_KEY", found "a b c"/);
  await rejects({ remove: 'a b' }, /remove: expected "KEY", found "a b"/);
  await rejects({ set: 'a b', condition: 'key_is a' }, /condition: unknown condition "key_is"/);
  await rejects({ set: 'a b', condition: 'key_exists' }, /condition: expected "key_exists KEY"/);
});

test('unknown option is rejected', async () => {
  await rejects({ rmove: 'a' }, /unknown key "rmove" \(did you mean "remove"\?\)/);
});

test('50k records through the engine: per-record cost stays small', async (t) => {
  const h = await harness({ condition: 'key_value_matches level ^e', set: 'alert yes', rename: 'msg message', remove_wildcard: 'debug_*' });
  t.after(() => h.stop());
  const recs = Array.from({ length: 50_000 }, (_, i) => ({ msg: `m ${i}`, level: i % 2 ? 'error' : 'info', debug_id: i }));
  const t0 = performance.now();
  const out = await h.filter(recs);
  const ms = performance.now() - t0;
  assert.deepEqual(out[49_999]!.body, { level: 'error', message: 'm 49999', alert: 'yes' });
  assert.deepEqual(out[0]!.body, { msg: 'm 0', level: 'info', debug_id: 0 });
  assert.ok(ms < 2000, `${ms} ms`);
});
