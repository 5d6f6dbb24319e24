import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { lines, openRotatedFile } from './plugins/rotated-file/harness.js';
const dir = mkdtempSync('/tmp/qb-');
const out = await openRotatedFile({ after() {} }, { workspace: join(dir, 'ws'), file: 's.log', rotate_size: process.argv[2] ?? '1000MB' }, join(dir, 'st'));
let tot = 0, mk = 0;
for (let i = 0; i < 100; i++) {
  let t = performance.now();
  const c = lines(Array.from({ length: 10000 }, (_, k) => `2024-12-31 10:00:00 - Hello, service. #${k} ${'x'.repeat(60)}`), { src: 'b', from: i * 10000 + 1 });
  mk += performance.now() - t; t = performance.now();
  await out.flush(c);
  tot += performance.now() - t;
}
console.log('per 10k chunk: flush', (tot / 100).toFixed(2), 'make', (mk / 100).toFixed(2), Object.entries((globalThis as any).__T).map(([k, v]) => `${k} ${((v as number) / 100).toFixed(2)}`).join(' '));
await out.close();
