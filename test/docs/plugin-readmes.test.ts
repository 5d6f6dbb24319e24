// Every built-in plugin has a README whose option table `npm run docs` generates (and the drift test checks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinRegistry } from '../../core/builtins.js';
import { PACKAGE_ROOT } from '../../core/version.js';

test('every built-in plugin has plugins/<name>/README.md with a generated option table', () => {
  const missing: string[] = [];
  for (const p of builtinRegistry().list()) {
    const readme = join(PACKAGE_ROOT, 'plugins', p.name, 'README.md');
    if (!existsSync(readme)) missing.push(`${p.name}: no README.md`);
    else {
      const text = readFileSync(readme, 'utf8');
      const start = text.indexOf('<!-- options -->');
      if (start < 0 || text.indexOf('<!-- /options -->', start) < 0) missing.push(`${p.name}: no <!-- options --> ... <!-- /options --> block`);
    }
  }
  assert.deepEqual(missing, []);
});
