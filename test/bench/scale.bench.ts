/**
 * Scale in files (issue 16): one enclave agent tailing 1, 16 and 64 files (one glob) into one parent
 * agent, the same total of lines split evenly, read from the head. Reports aggregate lines/s and
 * the CPU seconds per million lines of each process, and peak RSS: how cost grows with the number
 * of files. The parent's file is checked line by line: every line of every file, once, each
 * file's lines in order. Repeated RUNS times (3), reported as median [min–max].
 * Writes its section of docs/benchmarks.md.
 * Run: npm run bench -- scale   (env LINES=... total lines, RUNS=... repeats)
 * QLOG_BENCH_SMOKE=1: 6,400 lines, one run; checks only, docs/ untouched.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLines } from './agents.js';
import { measure, qlogSystem, type Sample } from './pair.js';
import { mib, provenance, RUNS, spread, writeSection } from './report.js';
import { check, size } from './smoke.js';

const LINES = Number(process.env.LINES ?? size(1_000_000, 6_400));
const FILES = [1, 16, 64];

/** Every file's lines 1..`each` exactly once and in order in `out` (other files' lines interleaved). */
function fileOrder(out: string, files: number, each: number): { same: boolean; inOrder: boolean } {
  const next = new Array<number>(files).fill(1);
  let bad = 0;
  for (const line of readFileSync(out, 'latin1').split('\n')) {
    if (!line) continue;
    const m = /service\[(\d+)\]: request (\d+) /.exec(line);
    const f = m ? Number(m[1]) : -1;
    if (f < 0 || f >= files || Number(m![2]) !== next[f]) bad++;
    else next[f]!++;
  }
  const ok = bad === 0 && next.every((n) => n === each + 1);
  return { same: ok, inOrder: ok };
}

async function runCase(dir: string, files: number): Promise<Sample> {
  const each = Math.floor(LINES / files);
  const inputs = join(dir, `in-${files}`);
  mkdirSync(inputs);
  let bytes = 0;
  for (let f = 0; f < files; f++) bytes += writeLines(join(inputs, `app-${f}.log`), each, f);
  const s = await measure(dir, qlogSystem(join(inputs, '*.log')), { bytes, compare: (out) => fileOrder(out, files, each) });
  check(s.same, `${files} files: the parent's file is not every file's lines once and in order (${s.got} of ${bytes} bytes)`);
  rmSync(inputs, { recursive: true, force: true });
  return { ...s, got: each * files };
}

const dir = mkdtempSync(join(tmpdir(), 'qlog-scale-bench-'));
try {
  console.log(`scale: ${LINES.toLocaleString('en')} lines in 1, 16, 64 files, one enclave agent -> one parent agent; ${RUNS} run(s)`);
  const results = new Map<number, Sample[]>(FILES.map((n) => [n, []]));
  for (let r = 0; r < RUNS; r++) {
    for (const files of FILES) {
      const s = await runCase(dir, files);
      results.get(files)!.push(s);
      const per = 1e6 / s.got;
      console.log(
        `run ${r + 1}, ${files} files: ${(s.ms / 1000).toFixed(2)} s, ${Math.round(s.got / (s.ms / 1000)).toLocaleString('en')} lines/s, CPU per 1M lines enclave ${(s.cpu[0] * per).toFixed(2)} s, parent ${(s.cpu[1] * per).toFixed(2)} s, RSS enclave ${mib(s.hwm[0]).toFixed(1)} MiB, parent ${mib(s.hwm[1]).toFixed(1)} MiB`,
      );
    }
  }
  const row = (files: number) => {
    const xs = results.get(files)!;
    const per = (x: Sample) => 1e6 / x.got;
    return `| ${files} | ${xs[0]!.got.toLocaleString('en')} | ${spread(
      xs.map((x) => x.got / (x.ms / 1000) / 1000),
      0,
      'k',
    )} | ${spread(xs.map((x) => x.cpu[0] * per(x)))} | ${spread(xs.map((x) => x.cpu[1] * per(x)))} | ${spread(
      xs.map((x) => mib(x.hwm[0])),
      1,
    )} | ${spread(
      xs.map((x) => mib(x.hwm[1])),
      1,
    )} |`;
  };
  writeSection(
    'scale-files',
    `## Scale: tailed files in one enclave agent

${provenance('npm run bench -- scale')}

One enclave agent tails N files (one glob, read from the head) into one parent agent (vsock on a
unix socket, acks -> rotated-file); ${LINES.toLocaleString('en')} lines of ~126 bytes in all, split
evenly. The parent's file is checked: every file's lines once, in order. CPU is seconds per million
lines delivered.

| files | lines | lines/s | enclave CPU s / 1M lines | parent CPU s / 1M lines | enclave peak RSS MiB | parent peak RSS MiB |
|---|---|---|---|---|---|---|
${FILES.map(row).join('\n')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
