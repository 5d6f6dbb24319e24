// Every benchmark runs once in smoke mode (QLOG_BENCH_SMOKE=1: tiny input, correctness checks on),
// so a bench that no longer works or hangs fails `npm test` instead of `npm run bench` months later.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const docs = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
const TIMEOUT_MS = 60_000;

function runSmoke(file: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  // The benches' own size and repeat variables would override the smoke sizes.
  const { LINES: _lines, LAT_SECONDS: _latSeconds, RUNS: _runs, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', join(dir, file)], {
    env: { ...env, QLOG_BENCH_SMOKE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()) {
  test(`${file} runs in smoke mode and its checks pass`, async () => {
    const before = readFileSync(docs, 'utf8');
    const r = await runSmoke(file);
    assert.equal(r.signal, null, `${file} did not finish within ${TIMEOUT_MS} ms:\n${r.output}`);
    assert.equal(r.code, 0, `${file} failed:\n${r.output}`);
    assert.equal(readFileSync(docs, 'utf8'), before, 'smoke mode must not rewrite docs/benchmarks.md');
  });
}
