import { test } from 'node:test';
import assert from 'node:assert/strict';
import prefix from '../../../plugins/prefix/index.js';
import { ConfigError, createHarness } from '../../../core/testing/index.js';
import { chunkBytes } from '../../../core/record.js';

const harness = (options: Record<string, unknown> = {}) => createHarness(prefix, { options, tag: 'app.service', service: { hostname: 'test' } });
const bodies = (recs: { body: unknown }[]) => recs.map((r) => r.body);

test('default prefix is "[${tag}] " on line records; chunk bytes follow', async (t) => {
  const h = await harness();
  t.after(() => h.stop());
  const out = await h.filter(['hello', 'world']);
  assert.deepEqual(bodies(out), ['[app.service] hello', '[app.service] world']);
  assert.equal(h.counters.bytes_out, chunkBytes(out));
});

test('template with host (meta.host, else service.hostname), path and env', async (t) => {
  process.env.QLOG_TEST_STAGE = 'prod'; // ${env:NAME} is the agent's environment, read when the template is compiled
  const h = await harness({ prefix: '${env:QLOG_TEST_STAGE} ${host} ${path}: ' });
  t.after(() => h.stop());
  const out = await h.filter([
    { body: 'a', meta: { path: '/var/log/a.log' } },
    { body: 'b', meta: { path: '/var/log/b.log', host: 'enclave-1' } },
  ]);
  assert.deepEqual(bodies(out), ['prod test /var/log/a.log: a', 'prod enclave-1 /var/log/b.log: b']);
});

test('object records: the `key` field gets the prefix; records without it pass unchanged and are counted', async (t) => {
  const h = await harness({ prefix: '<${body.level}> ' });
  t.after(() => h.stop());
  const out = await h.filter([{ log: 'x', level: 'warn' }, { message: 'no log field' }, { log: 42 }]);
  assert.deepEqual(bodies(out), [{ log: '<warn> x', level: 'warn' }, { message: 'no log field' }, { log: 42 }]);
  assert.equal(h.counters.prefix_skipped, 2);
  const g = await harness({ prefix: '# ', key: 'message' });
  t.after(() => g.stop());
  assert.deepEqual(bodies(await g.filter([{ message: 'm' }])), [{ message: '# m' }]);
});

test('a constant prefix; $${ keeps a literal ${', async (t) => {
  const h = await harness({ prefix: 'svc: ' });
  t.after(() => h.stop());
  assert.deepEqual(bodies(await h.filter(['one', 'two'])), ['svc: one', 'svc: two']);
  const g = await harness({ prefix: '$${tag}=${tag} ' });
  t.after(() => g.stop());
  assert.deepEqual(bodies(await g.filter(['x'])), ['${tag}=app.service x']);
});

test('a broken template is a config error naming the option', async () => {
  await assert.rejects(harness({ prefix: '[${tag ' }), (e: unknown) => e instanceof ConfigError && /prefix: unclosed "\$\{"/.test(e.message));
});

test('unknown option is rejected', async () => {
  await assert.rejects(harness({ prefx: 'x' }), (e: unknown) => e instanceof ConfigError && /unknown key "prefx" \(did you mean "prefix"\?\)/.test(e.message));
});

test('50k records through the engine: per-record cost stays small', async (t) => {
  const h = await harness({ prefix: '[${tag}] ${path}: ' });
  t.after(() => h.stop());
  const recs = Array.from({ length: 50_000 }, (_, i) => ({ body: `line ${i}`, meta: { path: '/p' } }));
  const t0 = performance.now();
  const out = await h.filter(recs);
  const ms = performance.now() - t0;
  assert.equal(out.length, 50_000);
  assert.equal(out[49_999]!.body, '[app.service] /p: line 49999');
  assert.ok(ms < 2000, `${ms} ms`);
});
