// What loadConfig hands to the engine: ids, defaults applied, units converted, common options split
// from the plugin's own, cross-field checks, and schemas shared between plugins of different kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin } from '../../core/index.js';
import { ConfigError } from '../../core/errors.js';
import { configFrom } from '../helpers/engine.js';

test('defaults, unit conversion, ids, common vs own options', async () => {
  const c = await configFrom(`
pipeline:
  inputs:
    - name: dummy
    - name: dummy
      alias: second
      rate: "5"
    - name: dummy
  outputs:
    - name: stdout
      match: [a, b]
      retry_base: 1
`);
  assert.equal(c.service.grace, 5000);
  assert.equal(c.service.log_level, 'info');
  assert.equal(c.service.state_dir, '.qlog-state');
  assert.deepEqual(
    c.inputs.map((e) => e.id),
    ['dummy.0', 'second', 'dummy.2'],
  );
  assert.deepEqual(c.inputs[0]!.options, { dummy: '{"message":"dummy"}', rate: 1, samples: 0 });
  assert.deepEqual(c.inputs[0]!.common, { name: 'dummy', buffer_limit: 4 * 1024 * 1024 });
  assert.equal(c.inputs[1]!.options.rate, 5, 'a numeric string becomes a number');
  assert.deepEqual(c.outputs[0]!.common, {
    name: 'stdout',
    match: ['a', 'b'],
    buffer_limit: 8 * 1024 * 1024,
    workers: 1,
    flush_max_size: 1024 * 1024,
    retry_limit: 'no_limits',
    retry_base: 1000,
    retry_max: 30_000,
  });
  assert.deepEqual(c.outputs[0]!.options, { format: 'line', include_meta: false });
  assert.deepEqual(c.outputs[0]!.path, ['pipeline', 'outputs', 0]);
});

test("one schema object shared by an input and an output gets each kind's common options", async () => {
  const shared = { type: 'object', additionalProperties: false, properties: { level: { type: 'integer', default: 1, description: 'x' } } } as const;
  const pin = definePlugin({ kind: 'input', name: 'pair_in', description: 'd', qlog: '*', schema: shared, setup: () => undefined });
  const pout = definePlugin({ kind: 'output', name: 'pair_out', description: 'd', qlog: '*', schema: shared, setup: () => undefined });
  const c = await configFrom(
    `
pipeline:
  inputs: [{ name: pair_in, tag: t }]
  outputs: [{ name: pair_out, match: t, retry_limit: 2 }]
`,
    [pin, pout],
  );
  assert.equal(c.inputs[0]!.common.tag, 't');
  assert.equal(c.outputs[0]!.common.match, 't');
  assert.equal(c.outputs[0]!.common.retry_limit, 2);
  assert.equal(c.outputs[0]!.options.level, 1);
});

test('a plugin check() problem is reported at its key', async () => {
  const checked = definePlugin({
    kind: 'output',
    name: 'ranged',
    description: 'd',
    qlog: '*',
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: { low: { type: 'integer', default: 0, description: 'l' }, high: { type: 'integer', default: 10, description: 'h' } },
    },
    check: (o) => (o.low > o.high ? { key: 'high', message: `high (${o.high}) must not be below low (${o.low})` } : undefined),
    setup: () => undefined,
  });
  await assert.rejects(configFrom(`pipeline:\n  outputs:\n    - name: ranged\n      low: 5\n      high: 1\n`, [checked]), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(
      e.issues.map((i) => [i.code, String(i)]),
      [['QLOG_ERR_CONFIG_VALUE', 'test.yaml:5:13: pipeline.outputs[0].high: high (1) must not be below low (5)']],
    );
    return true;
  });
});

test('range, pattern and list-length problems read "expected ..., found ..."', async () => {
  await assert.rejects(
    configFrom(`
pipeline:
  inputs:
    - name: dummy
      rate: 0
      samples: -1
      alias: "has space"
  outputs:
    - name: stdout
      workers: 65
      match: []
`),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.issues.map(String), [
        'test.yaml:4:13: pipeline.inputs[0].rate: expected a number > 0, found 0',
        'test.yaml:5:16: pipeline.inputs[0].samples: expected a number >= 0, found -1',
        'test.yaml:6:14: pipeline.inputs[0].alias: expected a string matching ^[A-Za-z0-9_.-]+$, found "has space"',
        'test.yaml:9:16: pipeline.outputs[0].workers: expected a number <= 64, found 65',
        'test.yaml:10:14: pipeline.outputs[0].match: expected a string, or a non-empty list, found an empty list',
      ]);
      return true;
    },
  );
});
