// stdout output: line and json formats (real CLI), ack after the write, errors, options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import stdout from '../../../plugins/stdout/index.js';
import { createHarness } from '../../../core/testing/index.js';
import { runCli, startCli, waitExit } from '../../helpers/cli.js';
import { tempDir, writeConfig } from '../../helpers/tmp.js';

/** Run dummy -> stdout with the given dummy record and stdout options until `n` lines are printed. */
async function print(t: test.TestContext, record: string, stdoutOptions: string, n = 2): Promise<string[]> {
  const dir = tempDir(t);
  const file = writeConfig(
    dir,
    'c.yaml',
    `
service: { log_level: warn }
pipeline:
  inputs:
    - { name: dummy, tag: app.web, rate: 100, samples: ${n}, dummy: '${record}' }
  outputs:
    - { name: stdout, ${stdoutOptions} }
`,
  );
  const a = startCli(['run', file], { cwd: dir, owner: t });
  await a.waitForLine((_) => a.stdout.length >= n);
  a.signal('SIGTERM');
  assert.equal((await waitExit(a)).code, 0);
  return a.stdout;
}

test('line format: a line as is; an object its message/log field, else JSON', async (t) => {
  assert.deepEqual(await print(t, 'plain ${seq}', 'format: line'), ['plain 1', 'plain 2']);
  assert.deepEqual(await print(t, '{"message":"hello","level":"info"}', 'match: "*"', 1), ['hello']);
  assert.deepEqual(await print(t, '{"log":"from log"}', 'format: line', 1), ['from log']);
  assert.deepEqual(await print(t, '{"a":1}', 'format: line', 1), ['{"a":1}']);
});

test('json format: date, tag and the fields; include_meta adds the metadata', async (t) => {
  const [line] = await print(t, 'plain', 'format: json', 1);
  const o = JSON.parse(line!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(o), ['date', 'tag', 'log']);
  assert.match(String(o.date), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.equal(o.tag, 'app.web');
  assert.equal(o.log, 'plain');
  const [withMeta] = await print(t, '{"message":"m","n":1}', 'format: json, include_meta: true', 1);
  const m = JSON.parse(withMeta!) as Record<string, unknown> & { meta: Record<string, unknown> };
  assert.match(String(m.meta.src), /^dummy:dummy\.0:[0-9a-z]+$/);
  assert.deepEqual({ ...m, date: 'x', meta: { ...m.meta, src: 'run' } }, { date: 'x', tag: 'app.web', message: 'm', n: 1, meta: { src: 'run', seq: 1 } });
});

/** Replace process.stdout.write while `fn` runs (the plugin writes to this process's stdout). */
async function captureStdout<T>(fn: (lines: string[], fail: (e: Error | undefined) => void) => Promise<T>): Promise<T> {
  const lines: string[] = [];
  let failWith: Error | undefined;
  const original = process.stdout.write;
  process.stdout.write = ((text: string, cb?: (e?: Error | null) => void) => {
    lines.push(...text.split('\n').filter(Boolean));
    queueMicrotask(() => cb?.(failWith ?? null));
    return true;
  }) as typeof process.stdout.write;
  try {
    return await fn(lines, (e) => (failWith = e));
  } finally {
    process.stdout.write = original;
  }
}

test('acks once the write completed; a failed write is not acked (the core retries)', async () => {
  await captureStdout(async (lines, fail) => {
    const h = await createHarness(stdout, { options: { format: 'json' }, tag: 'x' });
    assert.equal((await h.flush(['one', { message: 'two' }])).status, 'acked');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { log?: string; message?: string }).log ?? (JSON.parse(l) as { message: string }).message),
      ['one', 'two'],
    );
    fail(new Error('EPIPE'));
    const r = await h.flush(['three']);
    assert.equal(r.status, 'nacked');
    assert.match(String(r.error), /EPIPE/);
    assert.equal(h.counters.records_out, 2);
    await h.stop();
  });
});

test('invalid options: unknown key and a wrong format (qlog validate exits 2)', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(
    dir,
    'c.yaml',
    `
pipeline:
  inputs: [{ name: dummy }]
  outputs:
    - name: stdout
      formatt: json
    - name: stdout
      format: xml
`,
  );
  const r = await runCli(['validate', file], { cwd: dir, owner: t });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /c\.yaml:5:7: pipeline\.outputs\[0\]\.formatt: unknown key "formatt" \(did you mean "format"\?\)/);
  assert.match(r.stderr, /c\.yaml:7:15: pipeline\.outputs\[1\]\.format: expected one of "line", "json", found "xml"/);
  assert.match(r.stderr, /2 errors in the configuration/);
});
