// The deployable for an enclave image (`npm run package` = scripts/package.mjs): the archive
// unpacked in a temp folder runs with node and nothing else (PATH holds only a `node`), through its
// bin/qlog launcher, with the CLI's V8 flags, its production dependencies and the built addon.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { VERSION } from '../../core/version.js';
import { shebangEnv, shebangNodeArgs } from '../helpers/cli.js';
import { cleanTemps, ensureBuilt, node, ROOT, run, tempDir } from '../sdk/helpers.js';
import { assertAddonLoads, assertValidateAndRun, assertVersion, type InstalledQlog } from './helpers.js';

let archive: string;
let q: InstalledQlog;

before(async () => {
  ensureBuilt();
  const T = tempDir('qlog-archive-');
  const made = await node([join(ROOT, 'scripts/package.mjs'), '--out', join(T, 'release')], { cwd: ROOT, timeout: 180_000 });
  assert.equal(made.status, 0, made.stderr);
  archive = made.stdout.trim();
  const unpacked = join(T, 'opt');
  mkdirSync(unpacked);
  const x = await run('tar', ['-xzf', archive, '-C', unpacked]);
  assert.equal(x.status, 0, x.stderr);
  // PATH = a folder holding only `node`: no coreutils, no npm, no compiler.
  const nodeOnly = join(T, 'node-only');
  mkdirSync(nodeOnly);
  symlinkSync(process.execPath, join(nodeOnly, 'node'));
  const root = join(unpacked, 'qlog');
  q = { qlog: join(root, 'bin/qlog'), root, env: { PATH: nodeOnly, HOME: T }, dir: T };
});
after(cleanTemps);

test('the archive is named for its version and platform and holds one qlog/ folder', () => {
  assert.equal(archive, join(q.dir, 'release', `qlog-${VERSION}-${process.platform}-${process.arch}.tar.gz`));
  for (const f of ['bin/qlog', 'dist/core/cli/main.js', 'dist/core/index.cjs', 'package.json', 'conf/enclave.yaml', 'node_modules/pino/package.json'])
    assert.ok(existsSync(join(q.root, f)), f);
});

test('production dependencies only: no dev tools, no source maps or type declarations', () => {
  for (const m of ['typescript', 'tsx', 'esbuild', '@types/node', 'fluent-logger']) assert.equal(existsSync(join(q.root, 'node_modules', m)), false, m);
  assert.equal(existsSync(join(q.root, 'dist/core/cli/main.js.map')), false);
  assert.equal(existsSync(join(q.root, 'dist/core/index.d.ts')), false);
});

test('bin/qlog runs node with the environment and V8 flags of the CLI shebang', () => {
  const launcher = readFileSync(q.qlog, 'utf8');
  assert.match(launcher, /^#!\/bin\/sh\n/);
  assert.deepEqual(shebangEnv(), ['MALLOC_ARENA_MAX=1']);
  for (const a of shebangEnv()) {
    const [name, value] = a.split('=') as [string, string];
    assert.ok(launcher.includes(`\n: "\${${name}:=${value}}"; export ${name}\n`), launcher);
  }
  assert.ok(launcher.includes(`exec node ${shebangNodeArgs().join(' ')} "$root/dist/core/cli/main.js" "$@"`), launcher);
});

test('bin/qlog --version with only node on PATH, directly and through a symlink', async () => {
  await assertVersion(q);
  const link = join(q.dir, 'qlog-link');
  symlinkSync(q.qlog, link);
  await assertVersion({ ...q, qlog: link });
});

test('bin/qlog validate, then run until SIGTERM with only node on PATH (exit 0, records in stdout and file)', () => assertValidateAndRun(q));

test('the shipped vsock addon loads', () => assertAddonLoads(q));
