// The committed configuration reference and plugin README option tables must match the schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { generatedFiles } from '../../core/docs/generate.js';

test('docs/configuration.md and plugin READMEs are generated from the current schemas (run npm run docs)', () => {
  const stale: string[] = [];
  for (const [file, content] of generatedFiles()) {
    if (!existsSync(file) || readFileSync(file, 'utf8') !== content) stale.push(file);
  }
  assert.deepEqual(stale, [], `out of date, run "npm run docs": ${stale.join(', ')}`);
});

test('every built-in plugin option has a description and (unless required) a default', async () => {
  const { builtinRegistry } = await import('../../core/builtins.js');
  const missing: string[] = [];
  for (const p of builtinRegistry().list()) {
    const req = new Set<string>(p.schema.required ?? []);
    for (const [k, s] of Object.entries(p.schema.properties as Record<string, { description?: string; default?: unknown }>)) {
      if (!s.description) missing.push(`${p.name}.${k}: description`);
      if (!req.has(k) && !('default' in s)) missing.push(`${p.name}.${k}: default`);
    }
  }
  assert.deepEqual(missing, []);
});
