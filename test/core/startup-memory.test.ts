// After startup the agent turns V8's optimizing compiler back on (the CLI starts node without it:
// see afterStartup() in core/agent.ts) and gives back startup's memory through the native addon.
// If optimization did not come back, the pipeline would run interpreted: ~4x slower.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, shebangNodeArgs } from '../helpers/cli.js';

const agent = pathToFileURL(join(ROOT, 'dist/core/agent.js')).href;
const native = pathToFileURL(join(ROOT, 'dist/core/transport/vsock-native.js')).href;

// V8's %GetOptimizationStatus bits: 16 = optimized, 64 = by TurboFan.
const script = `
import { afterStartup } from '${agent}';
import { reduceMemory } from '${native}';
const probe = (f) => { %PrepareFunctionForOptimization(f); f(1); f(2); %OptimizeFunctionOnNextCall(f); f(3); return %GetOptimizationStatus(f); };
const before = probe((a) => a * 2 + 1);
afterStartup();
const after = probe((a) => a * 3 + 1);
console.log(JSON.stringify({ before, after, reduced: reduceMemory() }));
`;

test("the CLI's node options start without the optimizing compiler; afterStartup() turns it back on", () => {
  const args = shebangNodeArgs();
  assert.ok(args.includes('--no-opt'), `shebang options ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [...args, '--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const { before, after, reduced } = JSON.parse(r.stdout) as { before: number; after: number; reduced: boolean };
  assert.equal(before & 16, 0, `optimized during startup (status ${before.toString(2)})`);
  assert.equal(after & (16 | 64), 16 | 64, `not optimized by TurboFan after startup (status ${after.toString(2)})`);
  assert.equal(reduced, true, 'the native addon gave back memory (reduceMemory)');
});
