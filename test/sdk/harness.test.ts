// qlog/testing: one plugin instance in a real engine between a library input and output.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { definePlugin, nowNs, PermanentError, VERSION_RANGE, type Chunk, type LogRecord, type Settlement } from '../../core/index.js';
import { ConfigError, createHarness, optionsMarkdown, records, toRecord, withOptionsTable } from '../../core/testing/index.js';
import { RECORD_OVERHEAD } from '../../core/record.js';

const empty = { type: 'object', additionalProperties: false, properties: {} } as const;

const upper = definePlugin({
  kind: 'filter',
  name: 'upper',
  description: 'upper-cases lines; drops "drop"; "boom" throws; "twice" also emits a copy',
  qlog: VERSION_RANGE,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      suffix: { type: 'string', default: '', description: 'Appended to each line.' },
      delay: { unit: 'duration', default: 0, description: 'Wait this long per chunk.' },
      max: { unit: 'size', default: '1KiB', description: 'A size.' },
    },
  },
  check: (o) => (o.suffix === 'bad' ? { key: 'suffix', message: 'suffix may not be "bad"' } : undefined),
  setup(ctx) {
    ctx.hooks.chunk.tapPromise('upper', async (chunk) => {
      if (ctx.options.delay) await sleep(ctx.options.delay);
      if (chunk.records.some((r) => r.body === 'boom')) throw new Error('boom!');
      const twice = chunk.records.filter((r) => r.body === 'twice');
      if (twice.length)
        ctx.emit(
          'copies',
          twice.map((r) => ({ ...r, tag: 'copies', body: 'copy' })),
        );
      chunk.records = chunk.records.filter((r) => r.body !== 'drop').map((r) => ({ ...r, body: String(r.body).toUpperCase() + ctx.options.suffix }));
      ctx.counters.add('upper_records', chunk.records.length);
      ctx.log.info({ n: chunk.records.length }, 'filtered');
      return chunk;
    });
  },
});

test('filter: records in, transformed records out; options validated, defaulted and converted', async () => {
  const h = await createHarness(upper, { options: { suffix: '!', max: '2KiB' } });
  assert.deepEqual(h.options, { suffix: '!', delay: 0, max: 2048 });
  assert.equal(h.id, 'upper.0');
  const out = await h.filter(['a', { message: 'obj' }, { body: 'b', meta: { seq: 7 } }]);
  assert.deepEqual(
    out.map((r) => r.body),
    ['A!', '[OBJECT OBJECT]!', 'B!'],
  );
  assert.deepEqual(out[2]!.meta, { seq: 7 });
  assert.ok(out.every((r) => r.tag === 'test'));
  assert.deepEqual(await h.filter(['drop']), []);
  assert.equal(h.counters.records_in, 4);
  assert.equal(h.counters.dropped_records, 1);
  assert.equal(h.counters.upper_records, 3);
  assert.ok(h.logs.some((l) => l.msg === 'filtered' && l.plugin === 'upper.0' && l.level === 'info'));
  await h.stop();
});

test('filter: records the filter emits itself are returned too; a tag per call', async () => {
  const h = await createHarness(upper, { tag: 'app' });
  const out = await h.filter(['twice']);
  assert.deepEqual(out.map((r) => [r.tag, r.body]).sort(), [
    ['app', 'TWICE'],
    ['copies', 'copy'],
  ]);
  const other = await h.filter(['x'], { tag: 'other' });
  assert.deepEqual(
    other.map((r) => r.tag),
    ['other'],
  );
  assert.equal(h.received.length, 3);
  await h.stop();
});

test('filter: a throwing chunk hook rejects filter() by default; with throwOnError false the engine contains it', async () => {
  const h = await createHarness(upper);
  await assert.rejects(h.filter(['boom']), /^Error: boom!$/);
  await h.stop();
  const c = await createHarness(upper, { throwOnError: false });
  const out = await c.filter(['boom', 'x']);
  assert.deepEqual(
    out.map((r) => r.body),
    ['boom', 'x'],
    'the chunk passes unchanged',
  );
  assert.equal(c.counters.errors, 1);
  assert.equal(c.errors.length, 1);
  assert.equal(c.errors[0]!.stage, 'chunk');
  assert.match(String(c.errors[0]!.error), /boom!/);
  assert.ok(c.logs.some((l) => l.level === 'error' && /upper\.0: filter failed: boom!/.test(l.msg)));
  assert.deepEqual(
    (await c.filter(['after'])).map((r) => r.body),
    ['AFTER'],
    'and keeps working',
  );
  await c.stop();
});

test('invalid options reject with the ConfigError a user would get (unknown key, type, unit, check)', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ sufix: '!' }, /^options: sufix: unknown key "sufix" \(did you mean "suffix"\?\); allowed keys: .*suffix/],
    [{ suffix: { a: 1 } }, /^options: suffix: expected a string, found a map$/],
    [{ delay: 'soon' }, /^options: delay: expected a duration \(e\.g\. 15 for seconds, 500ms, 5s, 1m\), found "soon"$/],
    [{ suffix: 'bad' }, /^options: suffix: suffix may not be "bad"$/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(createHarness(upper, { options }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, message);
      return true;
    });
  }
  await assert.rejects(createHarness(upper, { options: { name: 'x' } }), /must not contain "name"/);
  await assert.rejects(
    createHarness(upper, { options: { suffix: '${NOPE_NOT_SET}' }, env: {} }),
    /options: suffix: environment variable NOPE_NOT_SET is not set/,
  );
});

test('the plugin is checked like the loader does (version range, brand)', async () => {
  const old = definePlugin({ kind: 'filter', name: 'old', description: 'd', qlog: '^99.0.0', schema: empty, setup() {} });
  await assert.rejects(createHarness(old), /plugin "old" supports qlog \^99\.0\.0, but this is qlog /);
  await assert.rejects(createHarness({ kind: 'filter', name: 'x' } as never), /does not export a qlog plugin/);
});

function flaky(fail: (chunk: Chunk, call: number) => Error | undefined | 'hang') {
  let calls = 0;
  return definePlugin({
    kind: 'output',
    name: 'flaky',
    description: 'd',
    qlog: VERSION_RANGE,
    schema: empty,
    setup(ctx) {
      ctx.hooks.flush.tapPromise('flaky', (chunk) => {
        const e = fail(chunk, ++calls);
        if (e === 'hang') return new Promise(() => undefined);
        return e ? Promise.reject(e) : Promise.resolve();
      });
    },
  });
}

test('output: acked, nacked (rejected), dropped (PermanentError), retried', async () => {
  const out = flaky((c, n) =>
    c.records[0]!.body === 'bad'
      ? new PermanentError('malformed')
      : c.records[0]!.body === 'fail'
        ? new Error('down')
        : c.records[0]!.body === 'flaky' && n % 2 === 0
          ? new Error('blip')
          : undefined,
  );
  const h = await createHarness(out);
  assert.deepEqual(await h.flush(['ok']), { acked: true, status: 'acked', attempts: 1 });
  const nack = await h.flush(['fail']);
  assert.equal(nack.status, 'nacked');
  assert.equal(nack.acked, false);
  assert.match(String(nack.error), /down/);
  assert.equal(nack.attempts, 1, 'retry_limit defaults to 0 in the harness');
  const drop = await h.flush(['bad']);
  assert.equal(drop.status, 'dropped');
  assert.ok(drop.error instanceof PermanentError);
  assert.equal(h.counters.dropped_records, 2);
  assert.equal(h.attempts.length, 3);
  await h.stop();

  const r = await createHarness(out, { options: { retry_limit: 3 } });
  const res = await r.flush(['flaky']);
  assert.equal(res.status, 'acked');
  assert.equal(res.attempts, 2);
  assert.equal(r.counters.retries, 1);
  const gaveUp = await r.flush(['fail']);
  assert.deepEqual([gaveUp.status, gaveUp.attempts], ['nacked', 4]);
  await r.stop();
});

test('output: a flush that never settles makes flush() fail after the harness timeout', async () => {
  const h = await createHarness(
    flaky(() => 'hang'),
    { timeout: 100 },
  );
  await assert.rejects(h.flush(['x']), /qlog\/testing: flush\(\) did not finish within 100 ms/);
  const { lost } = await h.stop({ grace: 50 });
  assert.equal(lost, 0, 'the hanging chunk is in flight, not queued');
});

/** An input that emits `n` numbered lines at start, or one per `ticker()` call. */
function counting(opts: { n?: number } = {}) {
  const settled: Settlement[] = [];
  const events: string[] = [];
  let emit: (body: string) => boolean = () => false;
  const plugin = definePlugin({
    kind: 'input',
    name: 'counting',
    description: 'd',
    qlog: VERSION_RANGE,
    schema: { type: 'object', additionalProperties: false, properties: { prefix: { type: 'string', default: 'line', description: 'p' } } },
    setup(ctx) {
      emit = (body) => ctx.emit(ctx.tag, [{ time: nowNs(), tag: ctx.tag, body, meta: {} }], { onSettled: (s) => settled.push(s) });
      ctx.hooks.start.tap('counting', () => {
        for (let i = 1; i <= (opts.n ?? 0); i++) emit(`${ctx.options.prefix} ${i}`);
      });
      ctx.hooks.pause.tap('counting', () => void events.push('pause'));
      ctx.hooks.resume.tap('counting', () => void events.push('resume'));
      ctx.hooks.stop.tap('counting', () => void events.push('stop'));
    },
  });
  return { plugin, settled, events, emit: (b: string) => emit(b) };
}

test('input: collect by count, by time, and a clear timeout', async () => {
  const c = counting({ n: 5 });
  const h = await createHarness(c.plugin, { options: { tag: 'nums', prefix: 'n' } });
  const first = await h.collect({ count: 3 });
  assert.deepEqual(
    first.map((r) => r.body),
    ['n 1', 'n 2', 'n 3'],
  );
  assert.deepEqual(
    first.map((r) => r.tag),
    ['nums', 'nums', 'nums'],
  );
  assert.deepEqual(
    (await h.collect({ ms: 30 })).map((r) => r.body),
    ['n 4', 'n 5'],
  );
  await assert.rejects(h.collect({ count: 1, timeout: 50 }), /collect expected 1 records within 50 ms, got 0/);
  assert.equal(h.counters.records_out, 5);
  assert.equal(c.settled.length, 5);
  assert.ok(c.settled.every((s) => s.delivered));
  await h.stop();
  assert.deepEqual(c.events, ['stop']);
});

test('input: manual acks drive onSettled; nack retries the same chunk; drop reports delivered: false', async () => {
  const c = counting();
  const h = await createHarness(c.plugin, { ack: 'manual' });
  c.emit('a');
  await h.waitFor(() => h.pending === 1);
  assert.equal(h.received.length, 1);
  assert.equal(c.settled.length, 0, 'not settled before the ack');
  assert.equal(h.ack(), 1);
  await h.waitFor(() => c.settled.length === 1);
  assert.equal(c.settled[0]!.delivered, true);

  c.emit('b');
  await h.waitFor(() => h.pending === 1);
  h.nack(new Error('peer down'));
  await h.waitFor(() => h.pending === 1, { what: 'the retry' });
  assert.equal(h.received.length, 2, 'a retried chunk is counted once');
  assert.equal(h.drop(), 1);
  await h.waitFor(() => c.settled.length === 2);
  assert.equal(c.settled[1]!.delivered, false);
  await h.stop();
});

test('input: backpressure — a full output pauses the input, acks resume it; pause()/resume() by hand', async () => {
  const c = counting();
  // Buffer limits count memory: 11 line bytes + RECORD_OVERHEAD per record; this limit holds about 6.
  const limit = 6 * (11 + RECORD_OVERHEAD);
  const h = await createHarness(c.plugin, { ack: 'manual', output: { buffer_limit: limit } });
  let accepted = 0;
  while (accepted < 20 && c.emit('0123456789')) accepted++;
  assert.ok(accepted >= 3 && accepted <= 7, `emit() returned false after ${accepted} records of 11 bytes (output buffer_limit ${limit})`);
  assert.equal(h.paused, true);
  assert.deepEqual(c.events, ['pause']);
  h.ack();
  await h.waitFor(() => !h.paused, { what: 'resume after the acks' });
  assert.deepEqual(c.events, ['pause', 'resume']);
  await h.stop({ grace: 100 }); // a flush may still be held (manual acks): do not wait the default grace

  const d = counting();
  const m = await createHarness(d.plugin);
  d.emit('x');
  m.pause();
  assert.equal(d.emit('y'), false);
  assert.equal(m.paused, true);
  m.resume();
  assert.equal(m.paused, false);
  assert.deepEqual(d.events, ['pause', 'resume']);
  await m.collect({ count: 2 });
  await m.stop();
});

test("setup failures reject createHarness with the engine's message; start: false defers setup", async () => {
  const broken = definePlugin({
    kind: 'output',
    name: 'broken',
    description: 'd',
    qlog: VERSION_RANGE,
    schema: empty,
    setup() {
      throw new Error('no device');
    },
  });
  await assert.rejects(createHarness(broken), /plugin instance broken\.0 failed during setup: no device/);
  const h = await createHarness(broken, { start: false });
  await assert.rejects(h.start(), /no device/);
  assert.equal(h.errors[0]!.stage, 'setup');
  await h.stop();
});

test('service: a temporary state dir (removed by stop), configDir, grace', async () => {
  let seen: { stateDir: string; configDir: string; graceMs: number; statePath: string } | undefined;
  const probe = definePlugin({
    kind: 'output',
    name: 'probe',
    description: 'd',
    qlog: VERSION_RANGE,
    schema: empty,
    setup(ctx) {
      seen = { ...ctx.service, statePath: ctx.statePath('offsets.json') };
      ctx.hooks.flush.tapPromise('probe', async () => undefined);
    },
  });
  const h = await createHarness(probe, { configDir: '/etc', service: { grace: '2s' } });
  assert.ok(existsSync(seen!.stateDir));
  assert.equal(seen!.configDir, '/etc');
  assert.equal(seen!.graceMs, 2000);
  assert.equal(seen!.statePath, `${seen!.stateDir}/probe.0.offsets.json`);
  await h.stop();
  assert.equal(existsSync(seen!.stateDir), false);
});

test('helpers: records(), toRecord(), option tables for READMEs', () => {
  const rs: LogRecord[] = records(['a', { k: 1 }, { body: 'b', tag: 'x', time: 5n }], 't');
  assert.deepEqual(
    rs.map((r) => [r.tag, r.body]),
    [
      ['t', 'a'],
      ['t', { k: 1 }],
      ['x', 'b'],
    ],
  );
  assert.equal(rs[2]!.time, 5n);
  assert.equal(typeof toRecord('x', 'y').time, 'bigint');
  const table = optionsMarkdown(upper);
  assert.match(table, /^\| option \| type \| default \| description \|\n\|---\|---\|---\|---\|\n\| `suffix` \| string \| `""` \| Appended to each line\. \|\n/);
  const readme = '# x\n\n<!-- options -->\nold\n<!-- /options -->\nrest\n';
  assert.equal(withOptionsTable(readme, upper), `# x\n\n<!-- options -->\n${table}<!-- /options -->\nrest\n`);
  assert.throws(() => withOptionsTable('# no markers', upper), /has no "<!-- options -->"/);
});
