// Plugin authors get typed options: fixtures/types/*.ts and *.cts import 'qlog' and 'qlog/testing'
// the way a plugin package does (through package.json "exports" into dist/) and must type-check.
// Their @ts-expect-error lines must all be needed: a wrong option access, kind or hook is an error.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cleanTemps, copyPackage, ensureBuilt, linkHostModules, node, tempDir, TSC } from './helpers.js';

const fixtures = join(import.meta.dirname, 'fixtures/types');
let dir: string;

before(() => {
  ensureBuilt();
  dir = join(tempDir(), 'types');
  copyPackage(fixtures, dir);
  linkHostModules(dir);
});
after(cleanTemps);

test('ESM, CJS and harness fixtures type-check against the built package', async () => {
  const r = await node([TSC, '-p', 'tsconfig.json'], { cwd: dir, timeout: 60_000 });
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});

test('a wrong option access is a type error (the check is not vacuous)', async () => {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    join(dir, 'wrong.ts'),
    `import { definePlugin } from 'qlog';
export default definePlugin({
  kind: 'filter', name: 'w', description: 'w', qlog: '^0.1.0',
  schema: { type: 'object', additionalProperties: false, properties: { rate: { type: 'number', default: 1, description: 'r' } } } as const,
  setup(ctx) { const s: string = ctx.options.rate; void s; void ctx.options.rat; },
});
`,
  );
  const r = await node([TSC, '-p', 'tsconfig.json'], { cwd: dir, timeout: 60_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /wrong\.ts\(5,.*Type 'number' is not assignable to type 'string'/);
  assert.match(r.stdout, /wrong\.ts\(5,.*Property 'rat' does not exist/);
});
