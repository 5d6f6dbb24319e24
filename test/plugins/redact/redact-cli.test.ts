import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outLines, runCli, unknownOptionConfig } from '../rate/cli-harness.js';

const config = (filter: string, samples = 5) => `
service:
  log_level: warn
  state_dir: \${DIR}/state
pipeline:
  inputs:
    - name: dummy
      tag: app.service
      dummy: 'req \${seq} key AKIAIOSFODNN7EXAMPLE url https://admin:hunter2@db/app card 4111-1111-1111-1111 id 4111111111111112'
      rate: 200
      samples: ${samples}
    - name: dummy
      tag: app.json
      dummy: '{"log":"auth Bearer abcdefgh12345","user":{"mail":"a.b@example.com","ticket":"T-99812"}}'
      rate: 200
      samples: 1
  filters:
${filter}
  outputs:
    - name: stdout
      format: json
`;

test('CLI: dummy -> redact -> stdout (defaults plus a pattern and email)', async () => {
  const r = await runCli(
    'run',
    config(`    - name: redact
      detectors: [credit_card, aws_key, bearer, url_password, email]
      patterns:
        - name: ticket
          regex: 'T-\\d{5}'`),
    { until: (s) => outLines(s).length >= 6 },
  );
  assert.equal(r.code, 0, r.stderr);
  const got = outLines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    got.filter((o) => typeof o.log === 'string' && o.log.startsWith('req')).map((o) => o.log),
    Array.from(
      { length: 5 },
      (_, i) => `req ${i + 1} key [REDACTED:aws_key] url https://admin:[REDACTED:url_password]@db/app card [REDACTED:credit_card] id 4111111111111112`,
    ),
  );
  const obj = got.find((o) => typeof o.log === 'string' && o.log.startsWith('auth'));
  assert.deepEqual(
    { log: obj?.log, user: obj?.user },
    { log: 'auth Bearer [REDACTED:bearer]', user: { mail: '[REDACTED:email]', ticket: '[REDACTED:ticket]' } },
  );
});

test('CLI: mode hash with hash_key_env gives one token per secret', async () => {
  const r = await runCli('run', config('    - name: redact\n      mode: hash\n      hash_key_env: QLOG_TEST_REDACT_KEY', 3), {
    until: (s) => outLines(s).length >= 4,
    env: { QLOG_TEST_REDACT_KEY: 'test-key' },
  });
  assert.equal(r.code, 0, r.stderr);
  const logs = outLines(r.stdout)
    .map((l) => (JSON.parse(l) as { log: string }).log)
    .filter((l) => l.startsWith('req'));
  assert.equal(logs.length, 3);
  const keys = logs.map((l) => /key (\S+)/.exec(l)?.[1]);
  assert.match(keys[0]!, /^\[REDACTED:aws_key:[0-9a-f]{8}\]$/);
  assert.deepEqual(new Set(keys).size, 1);
});

test('CLI: redact rejects an unknown option (validate exits 2)', async () => {
  const r = await runCli('validate', unknownOptionConfig('filters', 'redact', 'patern'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unknown key "patern" \(did you mean "patterns"\?\)/);
});

test('CLI: a bad user pattern is a config error at file:line:column (validate exits 2)', async () => {
  const yaml = unknownOptionConfig('filters', 'redact', 'x').replace(
    '      x: 1\n',
    () => "      patterns:\n        - name: broken\n          regex: '(a+)+$'\n",
  );
  const r = await runCli('validate', yaml);
  assert.equal(r.code, 2, r.stderr);
  const line = yaml.split('\n').findIndex((l) => l.includes('- name: broken')) + 1; // the patterns list (the message names the entry)
  assert.match(r.stderr, new RegExp(`cfg\\.yaml:${line}:\\d+: .*patterns: pattern "broken" has a repeated group`));
});
