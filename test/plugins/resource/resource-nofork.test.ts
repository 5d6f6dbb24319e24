/**
 * No sample forks a process or reads a file synchronously. child_process and the sync fs calls
 * are wrapped before anything loads systeminformation (which captures them at load time), and
 * ChildProcess.prototype.spawn is wrapped too, which every async spawn/exec/execFile/fork goes
 * through whatever reference the caller kept. A control proves the wrapping catches si.time()
 * (which runs `date` via execSync), a plain exec() and a readFileSync.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const require = createRequire(import.meta.url);
const cp = require('node:child_process') as Record<string, unknown> & { ChildProcess: { prototype: { spawn: (...a: unknown[]) => unknown } } };
const fs = require('node:fs') as Record<string, unknown>;
const calls: string[] = [];
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  const orig = cp[name] as (...a: unknown[]) => unknown;
  cp[name] = function (this: unknown, ...a: unknown[]) {
    calls.push(`child_process.${name}(${String(a[0]).slice(0, 40)})`);
    return orig.apply(this, a);
  };
}
const protoSpawn = cp.ChildProcess.prototype.spawn;
cp.ChildProcess.prototype.spawn = function (this: unknown, ...a: unknown[]) {
  calls.push('ChildProcess.spawn');
  return protoSpawn.apply(this, a);
};
let syncFs = 0;
let counting = false;
for (const name of ['readFileSync', 'openSync', 'readSync', 'readdirSync', 'statSync', 'lstatSync', 'existsSync', 'accessSync']) {
  const orig = fs[name] as (...a: unknown[]) => unknown;
  fs[name] = function (this: unknown, ...a: unknown[]) {
    if (counting) syncFs++;
    return orig.apply(this, a);
  };
}
syncBuiltinESMExports();

test('the detector catches a fork (control)', async () => {
  const si = await import('systeminformation');
  calls.length = 0;
  si.time();
  assert.ok(calls.some((c) => c.startsWith('child_process.execSync')), calls.join());
  calls.length = 0;
  await new Promise((r) => (cp.exec as (c: string, cb: () => void) => void)('true', r));
  assert.ok(calls.includes('ChildProcess.spawn'), calls.join());
  const { readFileSync } = await import('node:fs');
  counting = true;
  readFileSync('/proc/loadavg');
  counting = false;
  assert.ok(syncFs >= 1);
  syncFs = 0;
});

test('init + 8 samples: no child process, no sync fs read', async () => {
  const { ResourceSampler } = await import('../../../plugins/resource/resource-sampler.js');
  const { loadMemSource } = await import('../../../plugins/resource/resource-mem.js');
  const memSource = await loadMemSource(); // loading the module may read files synchronously; sampling may not
  calls.length = 0;
  counting = true;
  try {
    const s = new ResourceSampler({ memSource, cgroup: true, processes: ['self', 'init', 'systemd', 1], scanEvery: 2 });
    await s.init();
    for (let i = 0; i < 8; i++) await s.sample();
    assert.ok(s.scans >= 4, `name scans ${s.scans}`);
    await s.inventory();
  } finally {
    counting = false;
  }
  assert.deepEqual(calls, []);
  assert.equal(syncFs, 0);
});
