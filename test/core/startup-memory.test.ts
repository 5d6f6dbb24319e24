// The CLI starts node without V8's compilers (see afterStartup() in core/memory.ts); the agent
// turns the optimizing one back on with the first burst of records (core/jit.ts) and gives back
// startup's memory through the native addon. If optimization did not come back, a busy pipeline
// would run ~20% slower end to end; if it came back for a trickle, an idle agent would hold ~3 MiB
// more of the compiler's code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, shebangNodeArgs } from '../helpers/cli.js';

const memory = pathToFileURL(join(ROOT, 'dist/core/memory.js')).href;
const jit = pathToFileURL(join(ROOT, 'dist/core/jit.js')).href;

// V8's %GetOptimizationStatus bits: 16 = optimized, 64 = by TurboFan.
const script = `
import { afterStartup, reduceMemory } from '${memory}';
import { noteRecords } from '${jit}';
const probe = (f) => { %PrepareFunctionForOptimization(f); f(1); f(2); %OptimizeFunctionOnNextCall(f); f(3); return %GetOptimizationStatus(f); };
const before = probe((a) => a * 2 + 1);
afterStartup();
const trickle = [];
for (let i = 0; i < 10; i++) trickle.push(noteRecords(1));
const idle = probe((a) => a * 3 + 1);
const partial = noteRecords(4_000);
const burst = noteRecords(1_000);
const after = probe((a) => a * 4 + 1);
console.log(JSON.stringify({ before, idle, trickle, partial, burst, after, reduced: reduceMemory() }));
`;

test("the CLI's node options start without the optimizing compiler; the first burst of records turns it back on", () => {
  const args = shebangNodeArgs();
  assert.ok(args.includes('--no-opt'), `shebang options ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [...args, '--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { before: number; idle: number; trickle: boolean[]; partial: boolean; burst: boolean; after: number; reduced: boolean };
  assert.equal(out.before & 16, 0, `optimized during startup (status ${out.before.toString(2)})`);
  assert.deepEqual(out.trickle, Array(10).fill(false), 'a trickle does not turn it on');
  assert.equal(out.idle & 16, 0, `optimized after startup without a burst (status ${out.idle.toString(2)})`);
  assert.equal(out.partial, false, '4,010 records within a second are not a burst');
  assert.equal(out.burst, true, '5,010 are');
  assert.equal(out.after & (16 | 64), 16 | 64, `not optimized by TurboFan after the burst (status ${out.after.toString(2)})`);
  assert.equal(out.reduced, true, 'the native addon gave back memory (reduceMemory)');
});

test('an idle agent gives back unused memory once (debug log with RSS before and after)', async (t) => {
  const { startCli } = await import('../helpers/cli.js');
  const { tempDir, writeConfig } = await import('../helpers/tmp.js');
  const { writeFileSync } = await import('node:fs');
  const dir = tempDir(t);
  writeFileSync(join(dir, 'quiet.log'), '');
  writeConfig(
    dir,
    'idle.yaml',
    `service: { log_level: debug }\npipeline:\n  inputs: [{ name: tail, path: ${join(dir, 'quiet.log')} }]\n  outputs: [{ name: stdout }]\n`,
  );
  const agent = startCli(['run', 'idle.yaml'], { owner: t, cwd: dir, killAfterMs: 40_000 });
  const line = await agent.waitForLine(/idle: gave back unused memory/, { stream: 'stderr', timeoutMs: 25_000 });
  const j = JSON.parse(line) as { rss_before: number; rss_after: number };
  assert.ok(j.rss_before > 0 && j.rss_after > 0 && j.rss_after <= j.rss_before + 1024 * 1024, line);
  // Once: a quiet agent does not collect again and again. The point: longer than IDLE_MS (8 s in
  // core/memory.ts), when a second collection would come if it were not once.
  await new Promise((r) => setTimeout(r, 9000));
  assert.equal(agent.stderr.filter((l) => l.includes('idle: gave back unused memory')).length, 1);
  agent.signal('SIGTERM');
  assert.equal((await agent.exited).code, 0);
});

// A receiver (a parent without filters, which copies forwarded lines as bytes) gives back what
// startup grew and keeps its young generation at its initial size; other agents keep V8's sizing.
const youngScript = (role: string) => `
import { getHeapSpaceStatistics } from 'node:v8';
import { afterStartup } from '${memory}';
const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
// Startup-like: objects that survive (the young generation grows to the CLI's maximum).
const churn = () => { const keep = []; for (let i = 0; i < 300_000; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50_000) keep.splice(0, 10_000); } };
churn();
const grown = young();
afterStartup(${role});
const after = young();
churn();
console.log(JSON.stringify({ grown, after, later: young() }));
`;

test('afterStartup({receiver: true}) shrinks the young generation and keeps it small; others keep it', () => {
  const run = (role: string) => {
    const r = spawnSync(process.execPath, [...shebangNodeArgs(), '--input-type=module', '-e', youngScript(role)], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { grown: number; after: number; later: number };
  };
  const MiB = 1 << 20;
  const lean = run('{ receiver: true }');
  assert.ok(lean.grown >= 4 * MiB, `startup grew the young generation (${lean.grown / MiB} MiB)`);
  assert.ok(lean.after <= 2 * MiB, `given back: ${lean.after / MiB} MiB`);
  assert.ok(lean.later <= 2 * MiB, `and not grown again: ${lean.later / MiB} MiB`);
  const usual = run('{}');
  assert.ok(usual.later >= 4 * MiB, `other agents keep V8's sizing: ${usual.later / MiB} MiB`);
});

// The CLI's shebang limits glibc to one malloc arena (MALLOC_ARENA_MAX=1): with one arena per
// thread that allocates (libuv's pool, V8's workers), each agent's peak RSS was ~1.5 MiB higher
// forwarding 1M lines, for no CPU gain. An env var: glibc reads it before any code of ours runs.
test('qlog, run as its file (shebang), runs node with MALLOC_ARENA_MAX=1', async (t) => {
  const { spawn } = await import('node:child_process');
  const { readFileSync, readlinkSync, writeFileSync } = await import('node:fs');
  const { CLI } = await import('../helpers/cli.js');
  const { tempDir, writeConfig } = await import('../helpers/tmp.js');
  const { waitFor } = await import('../helpers/wait.js');
  const dir = tempDir(t);
  writeFileSync(join(dir, 'quiet.log'), '');
  writeConfig(dir, 'quiet.yaml', `pipeline:\n  inputs: [{ name: tail, path: ${join(dir, 'quiet.log')} }]\n  outputs: [{ name: stdout }]\n`);
  const env = { ...process.env };
  delete env.MALLOC_ARENA_MAX;
  const agent = spawn(CLI, ['run', 'quiet.yaml'], { cwd: dir, env, stdio: 'ignore' });
  t.after(() => agent.kill('SIGKILL'));
  // env(1) sets the variable and execs node in the same process: node's own environment has it.
  const environ = () => readFileSync(`/proc/${agent.pid}/environ`, 'utf8').split('\0');
  // The first node on PATH, whichever it is: wait until env(1) has exec'd it.
  await waitFor(() => /node[^/]*$/.test(readlinkSync(`/proc/${agent.pid}/exe`)), { timeoutMs: 10_000, what: 'env(1) to exec node' });
  assert.ok(environ().includes('MALLOC_ARENA_MAX=1'), environ().join(' '));
});
