import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outLines, runCli, unknownOptionConfig } from '../rate/cli-harness.js';

test('CLI: dummy -> modify -> stdout json: rules under a condition, in config order, on lines and objects', async () => {
  const r = await runCli(
    'run',
    `
service:
  log_level: warn
  state_dir: \${DIR}/state
pipeline:
  inputs:
    - name: dummy
      tag: app.json
      dummy: '{"msg":"request \${seq}","level":"error","debug_id":"x1","debug_trace":"t"}'
      rate: 200
      samples: 2
    - name: dummy
      tag: app.line
      dummy: 'plain \${seq}'
      rate: 200
      samples: 2
  filters:
    - name: modify
      match: 'app.*'
      condition: 'key_value_matches level ^(error|warn)$'
      set: 'alert yes'
      rename: 'msg message'
      remove_wildcard: 'debug_*'
    - name: modify
      match: app.line
      add: ['source line', 'log never']
      rename: 'source origin' # after add: rules run in the order of their options
  outputs:
    - name: stdout
      format: json
`,
    { until: (s) => outLines(s).length >= 4 },
  );
  assert.equal(r.code, 0, r.stderr);
  const got = outLines(r.stdout).map((l) => {
    const { date, ...rest } = JSON.parse(l) as Record<string, unknown>;
    assert.match(String(date), /^\d{4}-\d\d-\d\dT/);
    return rest;
  });
  const byTag = (tag: string) => got.filter((x) => x.tag === tag);
  assert.deepEqual(byTag('app.json'), [
    { tag: 'app.json', level: 'error', alert: 'yes', message: 'request 1' },
    { tag: 'app.json', level: 'error', alert: 'yes', message: 'request 2' },
  ]);
  assert.deepEqual(byTag('app.line'), [
    { tag: 'app.line', log: 'plain 1', origin: 'line' },
    { tag: 'app.line', log: 'plain 2', origin: 'line' },
  ]);
});

test('CLI: modify rejects an unknown option (validate exits 2)', async () => {
  const r = await runCli('validate', unknownOptionConfig('filters', 'modify', 'rmove'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unknown key "rmove" \(did you mean "remove"\?\)/);
});

test('CLI: modify with a bad regex is a config error with file:line:column', async () => {
  const r = await runCli('validate', unknownOptionConfig('filters', 'modify', 'x').replace('      x: 1\n', "      remove_regex: '^(debug'\n"));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cfg\.yaml:8:21: pipeline\.filters\[0\]\.remove_regex: invalid regular expression "\^\(debug": Unterminated group\n/);
});
