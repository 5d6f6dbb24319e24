// The user's install path, for real: `npm pack`, then `npm install -g --prefix <tmp> ./qlog-<v>.tgz`
// (offline: qlog's dependencies come from the npm cache `npm ci` filled), and the `qlog` that lands
// in <prefix>/bin runs: --version, validate, a short `run` stopped by SIGTERM. The install script
// builds the vsock addon in the installed copy (a missing native source in "files" fails here).
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { childEnv, cleanTemps, ensureBuilt, installLocal, packQlog, tempDir } from '../sdk/helpers.js';
import { assertAddonLoads, assertValidateAndRun, assertVersion, type InstalledQlog } from './helpers.js';

let q: InstalledQlog;

before(async () => {
  ensureBuilt();
  const T = tempDir('qlog-global-');
  const tgz = await packQlog(T);
  const prefix = join(T, 'prefix');
  await installLocal(T, [tgz], ['--global', '--prefix', prefix]);
  q = { qlog: join(prefix, 'bin/qlog'), root: join(prefix, 'lib/node_modules/qlog'), env: childEnv(), dir: T };
});
after(cleanTemps);

test('qlog from the global prefix: --version', () => assertVersion(q));

test('qlog from the global prefix: validate, then run until SIGTERM (exit 0, records in stdout and file)', () => assertValidateAndRun(q));

test('the install script built the vsock addon in the installed copy, and it loads', () => assertAddonLoads(q));

test('a symlink to the installed bin runs it (as /usr/local/bin/qlog would)', async () => {
  const link = join(q.dir, 'qlog-link');
  symlinkSync(q.qlog, link);
  await assertVersion({ ...q, qlog: link });
});
