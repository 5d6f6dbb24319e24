// `npm run bench`: runs every test/bench/*.bench.ts in turn (each is a standalone script that prints
// its figures; some also write their section of docs/benchmarks.md, see report.ts). `npm test` runs each once in smoke
// mode (test/bench/smoke.test.ts); the full run is not part of CI.
// Usage: npm run bench [-- name-filter ...]
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
  .sort((a, b) => (a === 'e2e.bench.ts' ? 1 : b === 'e2e.bench.ts' ? -1 : a.localeCompare(b)));
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n=== ${f} ===\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${dir}/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
