// rotated-file write throughput, in-process (flush hook called directly, as the core does with workers: 1).
// Usage: node --import tsx test/bench/rotated-file.bench.ts [lines-per-chunk] [total-lines]
// (QLOG_BENCH_SMOKE=1: 25,000 lines, enough for a rotation.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lines, openRotatedFile } from '../plugins/rotated-file/harness.js';
import { check, size } from './smoke.js';

const perChunk = Number(process.argv[2] ?? 1000);
const total = Number(process.argv[3] ?? size(1_000_000, 25_000));
const body = (i: number) => `2024-12-31 10:00:00 - Hello, service. #${i} ${'x'.repeat(60)}`; // ~100 bytes

async function run(label: string, options: Record<string, unknown>, n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qlog-bench-'));
  const after: (() => void)[] = [];
  const out = await openRotatedFile({ after: (f) => after.push(f) }, { workspace: join(dir, 'ws'), file: 'service.log', ...options }, join(dir, 'state'));
  // Chunks are made on the fly (not all kept in memory: a big live heap would measure the GC);
  // only the flush calls are timed.
  let ns = 0n;
  for (let i = 0; i < n; i += perChunk) {
    const c = lines(
      Array.from({ length: Math.min(perChunk, n - i) }, (_, k) => body(i + k)),
      { src: 'bench', from: i + 1 },
    );
    const t0 = process.hrtime.bigint();
    await out.flush(c);
    ns += process.hrtime.bigint() - t0;
  }
  const s = Number(ns) / 1e9;
  const bytes = out.counters.get('bytes_written');
  console.log(
    `${label.padEnd(44)} ${(n / s / 1000).toFixed(0).padStart(6)} k lines/s  ${(bytes / s / 1e6).toFixed(1).padStart(6)} MB/s  (${n} lines, ${perChunk}/chunk, ${out.counters.get('rotations')} rotations)`,
  );
  check(out.counters.get('lines_written') === n, `${label}: ${out.counters.get('lines_written')} lines written, want ${n}`);
  await out.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`tmpdir: ${tmpdir()}`);
await run('rotate_size 2MB, fsync off', {}, total);
await run('rotate_size 100MB (no rotation), fsync off', { rotate_size: '100MB' }, total);
await run('rotate_size 2MB, compress', { compress: true }, Math.min(total, 300_000));
await run('rotate_size 2MB, fsync batch', { fsync: 'batch' }, Math.min(total, 200_000));
