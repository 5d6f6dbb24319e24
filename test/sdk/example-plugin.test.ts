// docs/examples/qlog-plugin-secret-mask type-checks and passes its own tests against this repo's
// build (qlog linked into a copy's node_modules; the npm install path is in pack-install.test.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanTemps, copyPackage, ensureBuilt, EXAMPLE, linkHostModules, node, tempDir, TSC } from './helpers.js';

after(cleanTemps);

test('the example plugin: tsc and its tests (rules, harness, README table)', async () => {
  ensureBuilt();
  const dir = join(tempDir(), 'secret-mask');
  copyPackage(EXAMPLE, dir);
  linkHostModules(dir);
  const tsc = await node([TSC, '-p', 'tsconfig.json'], { cwd: dir, timeout: 90_000 });
  assert.equal(tsc.status, 0, `tsc\n${tsc.stdout}${tsc.stderr}`);
  const tests = await node(['--import', 'tsx', '--test', 'test/rules.test.ts', 'test/secret-mask.test.ts'], { cwd: dir, timeout: 90_000 });
  assert.equal(tests.status, 0, `tests\n${tests.stdout}${tests.stderr}`);
  assert.match(tests.stdout, /# fail 0\n/);
});
