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
  assert.ok(
    calls.some((c) => c.startsWith('child_process.execSync')),
    calls.join(),
  );
  calls.length = 0;
  await new Promise<void>((r) => (cp.exec as (c: string, cb: () => void) => void)('true', () => r()));
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
  } finally {
    counting = false;
  }
  assert.deepEqual(calls, []);
  assert.equal(syncFs, 0);
});

test('the resource plugin itself: 6 samples at 100ms, names rescanned every sample, no child process, no sync fs read', async () => {
  const { AsyncSeriesHook, SyncHook } = await import('tapable');
  const pino = (await import('pino')).default;
  const { InstanceCounters } = await import('../../../core/counters.js');
  const { compile } = await import('../../../core/config/validate.js');
  const { withTimeout } = await import('../../helpers/wait.js');
  const resource = (await import('../../../plugins/resource/index.js')).default;
  const options: Record<string, unknown> = { interval: '100ms', processes: ['self', 'systemd', 'init'], process_scan_every: 1 };
  assert.ok(compile(resource.schema)(options));
  const hooks = Object.freeze({ start: new AsyncSeriesHook<[]>(), stop: new AsyncSeriesHook<[]>(), pause: new SyncHook<[]>(), resume: new SyncHook<[]>() });
  const got: { body: Record<string, unknown> }[] = [];
  let enough: () => void = () => undefined;
  const done = new Promise<void>((r) => (enough = r));
  const ctx = {
    id: 'resource.0',
    name: 'resource',
    options,
    log: pino({ level: 'silent' }),
    counters: new InstanceCounters(),
    service: { version: '0', hostname: 'h', stateDir: '/nonexistent', configDir: '.', graceMs: 1000 },
    statePath: (f: string) => f,
    hooks,
    tag: 'res',
    paused: false,
    ready: () => Promise.resolve(),
    emit: (_tag: string, records: { body: Record<string, unknown> }[], opts?: { dropIfFull?: boolean }) => {
      assert.equal(opts?.dropIfFull, true);
      got.push(...records);
      if (got.length >= 6) enough();
      return true;
    },
  };
  calls.length = 0;
  syncFs = 0;
  (resource.setup as (c: unknown) => void)(ctx);
  counting = true;
  try {
    await hooks.start.promise();
    await withTimeout(done, 5000, () => `6 samples (only ${got.length})`);
    await hooks.stop.promise();
  } finally {
    counting = false;
  }
  assert.deepEqual(calls, []);
  assert.equal(syncFs, 0);
  assert.ok(typeof got[0]!.body.log === 'string' && got[0]!.body.inventory !== undefined);
  assert.ok(got.length >= 6);
});
