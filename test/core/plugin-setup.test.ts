// A plugin whose setup throws (or never finishes) stops the configuration from running with
// QLOG_ERR_PLUGIN_SETUP naming the instance; an output that taps no flush hook is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin } from '../../core/index.js';
import { QlogError } from '../../core/errors.js';
import { Engine } from '../../core/engine/engine.js';
import { VERSION } from '../../core/version.js';
import { captureLogger, configFrom } from '../helpers/engine.js';

const empty = { type: 'object', additionalProperties: false, properties: {} } as const;
const service = (graceMs = 1000) => Object.freeze({ version: VERSION, hostname: 'h', stateDir: '/nonexistent', configDir: '/', graceMs });

test('a setup that throws: QLOG_ERR_PLUGIN_SETUP with the instance id', async () => {
  const broken = definePlugin({
    kind: 'output',
    name: 'broken',
    description: 'd',
    qlog: '*',
    schema: empty,
    setup() {
      throw new Error('cannot open /dev/nothing');
    },
  });
  const engine = new Engine(await configFrom(`pipeline: { outputs: [{ name: broken, alias: b1 }] }`, [broken]), service(), captureLogger().logger);
  await assert.rejects(engine.setup(), (e: unknown) => {
    assert.ok(e instanceof QlogError);
    assert.equal(e.code, 'QLOG_ERR_PLUGIN_SETUP');
    assert.equal(e.message, 'plugin instance b1 failed during setup: cannot open /dev/nothing');
    return true;
  });
});

test('a setup that never finishes times out after service.grace', async (t) => {
  const hangs = definePlugin({ kind: 'input', name: 'hangs', description: 'd', qlog: '*', schema: empty, setup: () => new Promise<void>(() => undefined) });
  const engine = new Engine(await configFrom(`pipeline: { inputs: [{ name: hangs }] }`, [hangs]), service(50), captureLogger().logger);
  const t0 = Date.now();
  const alive = setInterval(() => undefined, 1000); // the engine's timeout timer is unref'd (the agent keeps the loop alive)
  t.after(() => clearInterval(alive));
  await assert.rejects(engine.setup(), /^QlogError: plugin instance hangs\.0 failed during setup: hangs\.0 setup did not finish within 50 ms$/);
  assert.ok(Date.now() - t0 < 2000);
});

test('an output that does not tap hooks.flush is refused', async () => {
  const lazy = definePlugin({ kind: 'output', name: 'lazy', description: 'd', qlog: '*', schema: empty, setup: () => undefined });
  const engine = new Engine(await configFrom(`pipeline: { outputs: [{ name: lazy }] }`, [lazy]), service(), captureLogger().logger);
  await assert.rejects(engine.setup(), /output plugin lazy \(lazy\.0\) did not tap hooks\.flush in setup/);
});
