import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outLines, runCli, unknownOptionConfig } from '../rate/cli-harness.js';

test('CLI: dummy -> prefix -> stdout', async () => {
  const r = await runCli(
    'run',
    `
service:
  log_level: warn
  state_dir: \${DIR}/state
  hostname: enclave-7
pipeline:
  inputs:
    - name: dummy
      tag: app.service
      dummy: 'hello \${seq}'
      rate: 200
      samples: 20
    - name: dummy
      tag: app.json
      dummy: '{"log":"structured","level":"info"}'
      rate: 200
      samples: 3
  filters:
    - name: prefix
      match: 'app.*'
      prefix: '[\${tag}@\${host}] \${env:QLOG_STAGE}: '
  outputs:
    - name: stdout
`,
    { until: (s) => outLines(s).length >= 23, env: { QLOG_STAGE: 'prod' } },
  );
  assert.equal(r.code, 0, r.stderr);
  const got = outLines(r.stdout);
  assert.deepEqual(
    got.filter((l) => l.includes('hello')),
    Array.from({ length: 20 }, (_, i) => `[app.service@enclave-7] prod: hello ${i + 1}`),
  );
  assert.deepEqual(
    got.filter((l) => l.includes('structured')),
    Array(3).fill('[app.json@enclave-7] prod: structured'),
  );
});

test('CLI: prefix rejects an unknown option (validate exits 2)', async () => {
  const r = await runCli('validate', unknownOptionConfig('filters', 'prefix', 'prefx'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unknown key "prefx" \(did you mean "prefix"\?\)/);
});

test('CLI: prefix with an unclosed ${ is a config error with file:line:column', async () => {
  const r = await runCli('validate', unknownOptionConfig('filters', 'prefix', 'x').replace('      x: 1\n', "      prefix: '[${tag '\n"));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cfg\.yaml:\d+:\d+: .*prefix: unclosed "\$\{" .*at column 2/);
});
