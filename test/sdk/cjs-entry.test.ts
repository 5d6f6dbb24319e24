// CommonJS consumers: require('qlog') and require('qlog/testing') (dist/core/*.cjs) work, export the
// same names as the ESM entries and behave the same; a CJS plugin runs in the (ESM) engine.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, ROOT } from './helpers.js';

type Sdk = typeof import('../../core/index.js');
type Testing = typeof import('../../core/testing/index.js');
let esm: Sdk;
let cjs: Sdk;
let esmTesting: Testing;
let cjsTesting: Pick<Testing, 'createHarness' | 'records' | 'toRecord'>;
const require = createRequire(import.meta.url);

before(async () => {
  ensureBuilt();
  // Everything from dist/, so the process holds one copy of the engine (as an installed qlog).
  esm = (await import(pathToFileURL(join(ROOT, 'dist/core/index.js')).href)) as Sdk;
  esmTesting = (await import(pathToFileURL(join(ROOT, 'dist/core/testing/index.js')).href)) as Testing;
  cjs = require(join(ROOT, 'dist/core/index.cjs')) as Sdk;
  cjsTesting = require(join(ROOT, 'dist/core/testing/index.cjs')) as typeof cjsTesting;
});

test('package.json exports: import and require conditions, with their own type declarations', () => {
  const pkg = require(join(ROOT, 'package.json')) as { exports: Record<string, Record<string, { types: string; default: string }>> };
  for (const [sub, base] of [
    ['.', 'dist/core/index'],
    ['./testing', 'dist/core/testing/index'],
  ] as const) {
    assert.deepEqual(pkg.exports[sub], {
      import: { types: `./${base}.d.ts`, default: `./${base}.js` },
      require: { types: `./${base}.d.cts`, default: `./${base}.cjs` },
    });
  }
});

test('require("qlog") exports the same names as import("qlog")', () => {
  assert.deepEqual(
    Object.keys(cjs)
      .filter((k) => k !== '__esModule')
      .sort(),
    Object.keys(esm).sort(),
  );
});

test('require("qlog/testing") exports createHarness, records, toRecord', () => {
  assert.deepEqual(
    Object.keys(cjsTesting)
      .filter((k) => k !== '__esModule')
      .sort(),
    ['createHarness', 'records', 'toRecord'],
  );
  for (const k of ['createHarness', 'records', 'toRecord'] as const) assert.equal(typeof esmTesting[k], 'function');
});

test('same behaviour: units, tag matching, record helpers, version, brand', () => {
  for (const v of [0, 65536, '64KiB', '2MB', '1.5 MiB', ' 3 gb ', 'x', -1, 1.5, '12 parsecs', null])
    assert.equal(cjs.parseSize(v), esm.parseSize(v), `parseSize(${v})`);
  for (const v of [15, 0.5, '500ms', '5s', '1m', '1.5h', '2d', 'soon', -3, '1 m'])
    assert.equal(cjs.parseDuration(v), esm.parseDuration(v), `parseDuration(${v})`);
  const patterns: (string | string[])[] = ['*', 'app.*', 'a*b*c', 'exact', ['x.*', '*.y']];
  for (const p of patterns)
    for (const t of ['app.web', 'abc', 'aXbYc', 'exact', 'x.1', '1.y', 'ab', '']) assert.equal(cjs.compileMatch(p)(t), esm.compileMatch(p)(t), `${p} vs ${t}`);
  const recs = [
    { time: 1n, tag: 't', body: 'line', meta: {} },
    { time: 2n, tag: 't', body: { message: 'm', n: 1 }, meta: {} },
    { time: 3n, tag: 't', body: { a: 1 }, meta: {} },
  ];
  for (const r of recs) {
    assert.equal(cjs.recordLine(r), esm.recordLine(r));
    assert.equal(cjs.recordBytes(r), esm.recordBytes(r));
  }
  assert.equal(cjs.chunkBytes(recs), esm.chunkBytes(recs));
  assert.equal(cjs.VERSION, esm.VERSION);
  assert.equal(cjs.VERSION_RANGE, esm.VERSION_RANGE);
  assert.equal(cjs.PLUGIN_BRAND, esm.PLUGIN_BRAND);
  assert.notEqual(cjs.newChunkId(), esm.newChunkId());
  const t = cjs.nowNs() - esm.nowNs();
  assert.ok(t > -5_000_000n && t < 5_000_000n, `clocks differ by ${t} ns`);
});

test('a plugin made by the CJS definePlugin is a plugin for the ESM host, and the other way round', () => {
  const def = {
    kind: 'filter',
    name: 'x',
    description: 'x',
    qlog: '*',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    setup() {},
  } as const;
  assert.equal(esm.isPlugin(cjs.definePlugin(def)), true);
  assert.equal(cjs.isPlugin(esm.definePlugin(def)), true);
  assert.equal(Object.isFrozen(cjs.definePlugin(def)), true);
});

test('a CJS PermanentError is an ESM PermanentError (the engine drops, not retries)', () => {
  const e = new cjs.PermanentError('bad record', { cause: 1 });
  assert.ok(e instanceof esm.PermanentError);
  assert.ok(e instanceof cjs.PermanentError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'PermanentError');
  assert.equal(e.message, 'bad record');
  assert.equal(e.cause, 1);
});

test('a CJS output plugin in the CJS harness: ack, retry, PermanentError drop', async () => {
  let calls = 0;
  const plugin = cjs.definePlugin({
    kind: 'output',
    name: 'cjs-out',
    description: 'x',
    qlog: cjs.VERSION_RANGE,
    schema: { type: 'object', additionalProperties: false, properties: {} } as const,
    setup(ctx) {
      ctx.hooks.flush.tapPromise('cjs-out', async (chunk) => {
        calls++;
        const line = chunk.records[0]!.body;
        if (line === 'bad') throw new cjs.PermanentError('malformed');
        if (line === 'flaky' && calls % 2 === 1) throw new Error('try again');
      });
    },
  });
  const h = await cjsTesting.createHarness(plugin, { options: { retry_limit: 5 } });
  assert.equal((await h.flush(['ok'])).status, 'acked');
  const drop = await h.flush(['bad']);
  assert.equal(drop.status, 'dropped');
  assert.equal(drop.attempts, 1);
  calls = 0;
  const flaky = await h.flush(['flaky']);
  assert.equal(flaky.status, 'acked');
  assert.equal(flaky.attempts, 2);
  assert.equal(h.counters.dropped_records, 1);
  await h.stop();
  assert.deepEqual(
    cjsTesting.records(['a']).map((r) => [r.tag, r.body]),
    [['test', 'a']],
  );
});
