#!/usr/bin/env node
// Kill loop (issue 12, "links that come back fast"): the parent agent SIGKILLed every 1-5 s
// (seeded) and back 0.5 s later while a writer appends TOTAL lines at about 4,000-5,000 lines/s;
// prints how long the link took to deliver everything after the writer stopped (drainSeconds),
// and what arrived. A measurement, not a test: nothing here asserts.
// Usage: npm run build && node scripts/kill-loop.mjs [checkout dir] [work dir]   (env TOTAL, DRAIN_MAX)
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
const dir = resolve(process.argv[3] ?? '/tmp/qlog-kill-loop');
const TOTAL = Number(process.env.TOTAL ?? 100_000);
const DRAIN_MAX = Number(process.env.DRAIN_MAX ?? 120_000);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const CLI = join(root, 'dist/core/cli/main.js');
writeFileSync(join(dir, 'app.log'), '');
writeFileSync(
  join(dir, 'e.yaml'),
  `service: { state_dir: ${dir}/es }\npipeline:\n  inputs: [{ name: tail, path: ${dir}/app.log, read_from_head: true }]\n  outputs: [{ name: vsock-forward, connect: 'unix://${dir}/p.sock' }]\n`,
);
writeFileSync(
  join(dir, 'p.yaml'),
  `service: { state_dir: ${dir}/ps }\npipeline:\n  inputs: [{ name: vsock, listen: 'unix://${dir}/p.sock' }]\n  outputs: [{ name: rotated-file, workspace: ${dir}/ws, file: out.log, rotate_size: 1GB }]\n`,
);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const start = (name) => spawn(CLI, ['run', join(dir, name)], { stdio: 'ignore' });
const enclave = start('e.yaml');
let parent = start('p.yaml');
let seed = 7;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const arrived = () => {
  try {
    return readFileSync(join(dir, 'ws/out.log'), 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
};
let writing = true;
const killer = (async () => {
  while (writing) {
    await sleep(1000 + random() * 4000);
    if (!writing) break;
    parent.kill('SIGKILL');
    await sleep(500);
    parent = start('p.yaml');
  }
})();
const t0 = Date.now();
for (let n = 0; n < TOTAL; ) {
  let batch = '';
  for (let i = 0; i < 50 && n < TOTAL; i++) batch += `line ${++n}\n`;
  appendFileSync(join(dir, 'app.log'), batch);
  await sleep(10);
}
const written = Date.now();
writing = false; // the killer kills no more (a kill already under way restarts the parent)
while (arrived() < TOTAL && Date.now() - written < DRAIN_MAX) await sleep(100);
const drained = Date.now();
const lines = readFileSync(join(dir, 'ws/out.log'), 'utf8').split('\n').filter(Boolean);
console.log(
  JSON.stringify({
    root,
    writeSeconds: (written - t0) / 1000,
    drainSeconds: (drained - written) / 1000,
    written: TOTAL,
    arrived: lines.length,
    distinct: new Set(lines).size,
  }),
);
await killer;
enclave.kill('SIGKILL');
parent.kill('SIGKILL');
