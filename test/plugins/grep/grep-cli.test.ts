import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeConfig } from '../../helpers/tmp.js';
import { runCli, unknownOptionConfig } from '../rate/cli-harness.js';
import { lines, started, startAgent, stop, tempDir } from '../tail/cli.js';

test('CLI: tail -> grep -> stdout json: exactly the kept lines, in order', async (t) => {
  const dir = tempDir(t, 'qlog-grep-cli-');
  const path = join(dir, 'app.log');
  const file = ['INFO start', 'ERROR db down', 'ERROR healthcheck failed', 'DEBUG x', 'WARN disk 91%', 'ERROR last'];
  writeFileSync(path, `${file.join('\n')}\n`);
  const cfg = writeConfig(
    dir,
    'cfg.yaml',
    `
service:
  log_level: info
  state_dir: ${dir}/state
pipeline:
  inputs:
    - name: tail
      tag: app
      path: ${path}
      read_from_head: true
  filters:
    - name: grep
      match: app
      regex: 'log ^(ERROR|WARN) '
      exclude: 'log healthcheck'
  outputs:
    - name: stdout
      format: json
`,
  );
  const a = startAgent(t, dir, cfg);
  await started(a);
  await lines(a, 3); // "ERROR last" is the file's last line: once it is out, every line went through grep
  await stop(a);
  const got = a.stdout.map((l) => {
    const { date, ...rest } = JSON.parse(l) as Record<string, unknown>;
    assert.match(String(date), /^\d{4}-\d\d-\d\dT/);
    return rest;
  });
  assert.deepEqual(got, [
    { tag: 'app', log: 'ERROR db down' },
    { tag: 'app', log: 'WARN disk 91%' },
    { tag: 'app', log: 'ERROR last' },
  ]);
});

test('CLI: grep rejects an unknown option (validate exits 2)', async () => {
  const r = await runCli('validate', unknownOptionConfig('filters', 'grep', 'regexp'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unknown key "regexp" \(did you mean "regex"\?\)/);
});

test('CLI: grep with a bad regex is a config error with file:line:column', async () => {
  const r = await runCli('validate', unknownOptionConfig('filters', 'grep', 'x').replace('      x: 1\n', "      exclude: ['log ok', 'log a(b']\n"));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cfg\.yaml:8:16: pipeline\.filters\[0\]\.exclude: invalid regular expression "a\(b": Unterminated group\n/);
});
