// A start that cannot succeed ends the process, non-zero, within seconds, saying why; and a role
// never says "listening on ..." before it is true (issue 12: ENOTDIR left the process alive for
// 10 minutes; under /proc node's recursive mkdir spun at 90% CPU and ignored SIGTERM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';

const QLOG_CONFIG = `port: 9000
workspace: ./ws
monitor_items:
  - name: service
    monitor_type: file
    monitor_path: ./service.log
    outputfile: service.log
`;

test('a workspace under a regular file: exit 1 at once, ENOTDIR naming the file, no banner', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'plain'), 'not a directory\n');
  writeFileSync(join(dir, 'config_qlog.toml'), QLOG_CONFIG);
  const started = Date.now();
  const r = await runCli(['receive-file', '-w', join(dir, 'plain', 'ws'), '--transport', `unix://${join(dir, 'x.sock')}`, '4', 'config_qlog.toml'], {
    cwd: dir,
    killAfterMs: 20_000,
  });
  assert.deepEqual([r.code, r.signal], [1, null], r.stderr);
  assert.ok(Date.now() - started < 15_000, `ended after ${Date.now() - started} ms`);
  assert.match(r.stderr, new RegExp(`qlog: failed to start: ENOTDIR: cannot create directory .*: ${join(dir, 'plain')} exists and is not a directory`));
  assert.doesNotMatch(r.stderr, /connecting to/, 'the banner comes only once the agent runs');
});

test('a state_dir under /proc: exit 1 at once (no endless mkdir loop)', async (t) => {
  const dir = tempDir(t);
  writeConfig(
    dir,
    'proc.yaml',
    `
service:
  state_dir: /proc/qlog-no-such-dir/state
pipeline:
  inputs: [{ name: dummy, samples: 1 }]
  outputs: [{ name: stdout }]
`,
  );
  const r = await runCli(['run', 'proc.yaml'], { cwd: dir, killAfterMs: 20_000 });
  assert.deepEqual([r.code, r.signal], [1, null], r.stderr);
  assert.match(r.stderr, /qlog: failed to start: ENOENT: no such file or directory, mkdir '\/proc\/qlog-no-such-dir'/);
});

test('--http-listen on an address in use: the error names the option, exit 1, never "listening on"', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config_qlog.toml'), QLOG_CONFIG);
  const port = await freePort();
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(port, '127.0.0.1', r));
  t.after(() => busy.close());
  const r = await runCli(['monitor', '--transport', `unix://${join(dir, 'm.sock')}`, '--http-listen', `127.0.0.1:${port}`, 'config_qlog.toml'], {
    cwd: dir,
    killAfterMs: 20_000,
  });
  assert.deepEqual([r.code, r.signal], [1, null], r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `cannot serve metrics on 127\\.0\\.0\\.1:${port} \\(service\\.http_listen; --http-listen for monitor and receive-file\\): address already in use`,
    ),
  );
  assert.doesNotMatch(r.stderr, /listening on/);
});

test('qlog validate / run on a qlog config: one error saying how to run or convert it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config_qlog.toml'), QLOG_CONFIG);
  for (const cmd of ['validate', 'run']) {
    const r = await runCli([cmd, 'config_qlog.toml'], { cwd: dir });
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
    assert.equal(
      r.stderr,
      'config_qlog.toml:3:1: monitor_items: this is a qlog config (it has "monitor_items", "workspace", "port"), not a native one: ' +
        'run it as qlog does, "qlog monitor config_qlog.toml" in the enclave or "qlog receive-file <cid> config_qlog.toml" on the parent, ' +
        'or convert it with "qlog migrate config_qlog.toml"\n1 error in the configuration\n',
    );
  }
});
