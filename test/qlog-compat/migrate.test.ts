// qlog migrate prints native configs that `qlog validate` accepts, and the commands' --print-config
// shows the same translation they run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

test('migrate prints both sides; --role gives one config that validates; -o writes files', async (t) => {
  const dir = tempDir(t);
  const both = await runCli(['migrate', 'conf/config_qlog.toml'], { cwd: ROOT });
  assert.equal(both.code, 0, both.stderr);
  assert.match(both.stdout, /^# ---- enclave\.yaml ----\n# Enclave side/);
  assert.match(both.stdout, /\n---\n# ---- parent\.yaml ----\n# Parent side/);
  assert.match(both.stdout, /connect: vsock:\/\/\$\{ENCLAVE_CID:-4\}:6000/);

  const parent = await runCli(['migrate', '--role', 'receive-file', '-c', '7', '-w', join(dir, 'ws'), join(ROOT, 'conf/config_qlog.toml')], { cwd: dir });
  assert.equal(parent.code, 0, parent.stderr);
  assert.match(parent.stdout, /connect: vsock:\/\/7:6000/);
  assert.ok(parent.stdout.includes(`workspace: ${join(dir, 'ws')}`));
  const file = join(dir, 'parent.yaml');
  writeFileSync(file, parent.stdout);
  const v = await runCli(['validate', file], { cwd: dir });
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /OK \(1 inputs, 0 filters, 2 outputs\)/);

  const out = await runCli(['migrate', '-o', join(dir, 'out'), '--transport', 'unix:///tmp/q.sock', join(ROOT, 'conf/config_qlog-reference.toml')], {
    cwd: dir,
  });
  assert.equal(out.code, 0, out.stderr);
  const enclave = readFileSync(join(dir, 'out', 'enclave.yaml'), 'utf8');
  assert.equal(enclave.match(/- name: tail/g)?.length, 4);
  assert.equal(enclave.match(/- name: resource/g)?.length, 1);
  assert.match(enclave, /listen: unix:\/\/\/tmp\/q\.sock/);
  assert.equal(readFileSync(join(dir, 'out', 'parent.yaml'), 'utf8').match(/- name: rotated-file/g)?.length, 5);
});

test('monitor --print-config shows the pipeline it runs; a bad --transport is a usage error', async () => {
  const r = await runCli(['monitor', '-c', '16', '--print-config', 'conf/config_qlog.toml'], { cwd: ROOT });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /listen: vsock:\/\/16:6000/);
  const bad = await runCli(['receive-file', '--transport', 'udp://x:1', '4', 'conf/config_qlog.toml'], { cwd: ROOT });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--transport: invalid transport address "udp:\/\/x:1"/);
});
