// The filter in a real qlog pipeline (qlog/testing): options, chunks, counters, errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createHarness, withOptionsTable } from 'qlog/testing';
import plugin from '../src/index.js';

test('masks secrets in lines and object records', async () => {
  const h = await createHarness(plugin);
  const out = await h.filter([
    'user=bob password=hunter2',
    'nothing to see',
    { message: 'auth with AKIAIOSFODNN7EXAMPLE', password: 'x', nested: { token: 'abc' } },
  ]);
  assert.deepEqual(
    out.map((r) => r.body),
    ['user=bob password=[REDACTED]', 'nothing to see', { message: 'auth with [REDACTED]', password: '[REDACTED]', nested: { token: '[REDACTED]' } }],
  );
  assert.equal(h.counters.masked_records, 2);
  assert.equal(h.counters.masked_secrets, 4);
  assert.equal(h.counters.masked_key_value, 1);
  assert.equal(h.counters.masked_key, 2);
  assert.equal(h.counters.records_out, 3);
  await h.stop();
});

test('defaults: every rule on, mask [REDACTED]', async () => {
  const h = await createHarness(plugin);
  assert.equal(h.options.rules.length, 10);
  assert.equal(h.options.mask, '[REDACTED]');
  assert.equal(h.options.show_last, 0);
  await h.stop();
});

test('only the chosen rules apply', async () => {
  const h = await createHarness(plugin, { options: { rules: ['aws_access_key_id'] } });
  const [r] = await h.filter(['password=x AKIAIOSFODNN7EXAMPLE']);
  assert.equal(r!.body, 'password=x [REDACTED]');
  await h.stop();
});

test('mask is a template: ${rule} is kept for the plugin, not read from the environment', async () => {
  const h = await createHarness(plugin, { options: { mask: '[${rule}]' }, env: {} });
  const [r] = await h.filter(['token=abc']);
  assert.equal(r!.body, 'token=[key_value]');
  await h.stop();
});

test('match limits the filter to some tags', async () => {
  const h = await createHarness(plugin, { options: { match: 'app.*' } });
  assert.deepEqual((await h.filter(['password=x'], { tag: 'app.web' })).map((r) => r.body), ['password=[REDACTED]']);
  assert.deepEqual((await h.filter(['password=x'], { tag: 'audit' })).map((r) => r.body), ['password=x']);
  await h.stop();
});

test('config errors read like the agent\'s', async () => {
  await assert.rejects(createHarness(plugin, { options: { rules: ['jwt', 'passwords'] } }), /rules\[1\]: expected one of .*"private_key"/);
  await assert.rejects(createHarness(plugin, { options: { patterns: ['('] } }), /patterns: patterns\[0\] is not a valid regular expression/);
  await assert.rejects(createHarness(plugin, { options: { mask: '' } }), /mask: the mask must not be empty/);
  await assert.rejects(createHarness(plugin, { options: { show_last: 20 } }), /show_last: expected .*<= 8, found 20/);
  await assert.rejects(createHarness(plugin, { options: { rule: ['jwt'] } }), /unknown key "rule" \(did you mean "rules"\?\)/);
});

test('README options table matches the schema (npm run docs updates it)', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.equal(readme, withOptionsTable(readme, plugin));
});
