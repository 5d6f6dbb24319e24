// Shared by the install tests: what an installed qlog must do, wherever it was installed
// (a global npm prefix, the unpacked deployable): print its version, validate a config, run a
// short pipeline (dummy -> stdout and a rotated file) until SIGTERM, and load the vsock addon.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VERSION } from '../../core/version.js';
import { node, run, runAgentUntil } from '../sdk/helpers.js';

export interface InstalledQlog {
  /** The `qlog` program to execute (a bin symlink or a launcher). */
  qlog: string;
  /** The installed package's folder (holds dist/ and native/). */
  root: string;
  /** Environment for every child (PATH decides which tools the install may use). */
  env: NodeJS.ProcessEnv;
  /** A scratch folder: the config, the agent's state and its output files go there. */
  dir: string;
}

const LINES = ['line 1', 'line 2', 'line 3'];

export async function assertVersion(q: InstalledQlog): Promise<void> {
  const v = await run(q.qlog, ['--version'], { cwd: q.dir, env: q.env });
  assert.equal(v.stdout.trim(), `qlog ${VERSION}`, v.stderr);
}

/** `qlog validate`, then `qlog run` until three records reached stdout; SIGTERM drains to the file too. */
export async function assertValidateAndRun(q: InstalledQlog): Promise<void> {
  const config = join(q.dir, 'smoke.yaml');
  writeFileSync(
    config,
    `service:
  log_level: warn
  state_dir: ${join(q.dir, 'state')}
pipeline:
  inputs:
    - { name: dummy, tag: app, dummy: 'line \${seq}', rate: 50, samples: ${LINES.length} }
  outputs:
    - { name: stdout }
    - { name: rotated-file, workspace: ${join(q.dir, 'ws')}, file: app.log }
`,
  );
  const v = await run(q.qlog, ['validate', config], { cwd: q.dir, env: q.env });
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /smoke\.yaml: OK \(1 inputs, 0 filters, 2 outputs\)/);

  const r = await runAgentUntil(q.qlog, config, (out) => out.split('\n').filter(Boolean).length >= LINES.length, { cwd: q.dir, env: q.env, exec: true });
  assert.ok(r.ready, `no records on stdout:\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), LINES);
  assert.deepEqual(readFileSync(join(q.dir, 'ws/app.log'), 'utf8').trim().split('\n'), LINES);
}

/** The built vsock addon is there and the installed agent loads it (reduceMemory needs it). */
export async function assertAddonLoads(q: InstalledQlog): Promise<void> {
  assert.ok(existsSync(join(q.root, 'native/build/Release/qlog_vsock.node')), `no addon under ${q.root}/native/build/Release`);
  const mod = join(q.root, 'dist/core/memory.js');
  const r = await node(['--input-type=module', '-e', `import { reduceMemory } from ${JSON.stringify(mod)}; console.log(reduceMemory())`], {
    cwd: q.dir,
    env: q.env,
  });
  assert.equal(r.stdout.trim(), 'true', `the installed addon did not load:\n${r.stderr}`);
}
