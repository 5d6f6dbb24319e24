/**
 * tail read throughput: a generated 1,000,000-line file (~100 bytes a line) read end to end.
 *   node --import tsx test/bench/tail.bench.ts [lines]      (QLOG_BENCH_SMOKE=1: 2,000 lines)
 * 1. the follower alone (tail's own cost: read, split, records, offsets), per read size;
 * 2. the real agent (`qlog run`, tail -> stdout format line, stdout read by this process),
 *    when dist/ is built: what a pipeline gets.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Follower, type FollowerOptions } from '../../plugins/tail/tail-follower.js';
import { compilePaths } from '../../plugins/tail/tail-scan.js';
import { withTimeout } from '../helpers/wait.js';
import { check, size } from './smoke.js';

export interface TailBenchResult {
  name: string;
  lines: number;
  bytes: number;
  ms: number;
  linesPerSec: number;
  mbPerSec: number;
}

const CLI = fileURLToPath(new URL('../../dist/core/cli/main.js', import.meta.url));

/** Write `lines` log-like lines (~100 bytes each) to `path`; returns the byte size. */
export async function generate(path: string, lines: number): Promise<number> {
  const out = createWriteStream(path);
  let buf = '';
  for (let i = 0; i < lines; i++) {
    buf += `2026-01-01T00:00:00.${String(i % 1000).padStart(3, '0')}Z INFO service[4242]: request ${i} handled in ${i % 997} ms path=/api/v1/items\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  return (await stat(path)).size;
}

function result(name: string, lines: number, bytes: number, ms: number): TailBenchResult {
  return { name, lines, bytes, ms, linesPerSec: (lines / ms) * 1000, mbPerSec: bytes / 1e6 / (ms / 1000) };
}

/** The follower's options in the benches: read `file` from its head, `readSize` bytes a read. */
export function followerOptions(file: string, dir: string, readSize: number): FollowerOptions {
  return {
    paths: compilePaths(file, [], dir),
    tag: 'bench',
    readFromHead: true,
    rotateWaitMs: 5000,
    refreshMs: 1000,
    readSize,
    maxLine: 256 * 1024,
    ignoreOlderMs: 0,
    watcher: 'inotify',
    pollMs: 250,
    pathKey: '',
    statePath: join(dir, 'offsets.json'),
  };
}

/** A sink's parts besides emission: always ready, counting and logging nothing. */
export const QUIET_SINK = {
  ready: () => Promise.resolve(),
  count() {},
  log: { debug() {}, info() {}, warn() {}, error() {} },
};

/** The follower alone, with a sink that counts and settles each chunk on the next turn. */
export async function benchFollower(file: string, lines: number, bytes: number, readSize: number): Promise<TailBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'qlog-bench-tail-state-'));
  let n = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const f = new Follower(followerOptions(file, dir, readSize), {
    emitLines(_tag, block, _bytes, onSettled) {
      n += block.count;
      setImmediate(onSettled);
      if (n >= lines) done();
      return true;
    },
    ...QUIET_SINK,
  });
  const t0 = performance.now();
  await f.start();
  await withTimeout(finished, size(120_000, 20_000), `the follower to emit ${lines} lines`);
  const ms = performance.now() - t0;
  await f.close();
  await rm(dir, { recursive: true, force: true });
  check(n === lines, `follower emitted ${n} lines, want ${lines}`);
  return result(`follower, read size ${readSize / 1024} KiB`, lines, bytes, ms);
}

/** `qlog run` with tail -> stdout (format line); counts the lines this process receives. */
export async function benchAgent(file: string, lines: number, bytes: number): Promise<TailBenchResult | undefined> {
  if (!existsSync(CLI)) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'qlog-bench-tail-agent-'));
  const cfg = join(dir, 'cfg.yaml');
  await writeFile(
    cfg,
    `service:\n  log_level: warn\n  state_dir: ${dir}/state\npipeline:\n  inputs:\n    - name: tail\n      path: ${file}\n      read_from_head: true\n  outputs:\n    - name: stdout\n      format: line\n`,
  );
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'run', cfg], { stdio: ['ignore', 'pipe', 'inherit'] });
  let n = 0;
  const ms = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('agent bench timed out')), 120_000);
    child.stdout.on('data', (d: Buffer) => {
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) n++;
      if (n >= lines) {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      }
    });
    child.on('exit', () => reject(new Error(`agent exited after ${n} lines`)));
  }).finally(() => {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  });
  await new Promise((r) => child.once('exit', r));
  await rm(dir, { recursive: true, force: true });
  check(n === lines, `the agent printed ${n} lines, want ${lines}`);
  return result('qlog run: tail -> stdout (includes agent start-up)', lines, bytes, ms);
}

export async function runTailBench(lines = 1_000_000): Promise<TailBenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'qlog-bench-tail-'));
  try {
    const file = join(dir, 'bench.log');
    const bytes = await generate(file, lines);
    const out: TailBenchResult[] = [];
    for (const size of [64 * 1024, 256 * 1024, 1024 * 1024]) out.push(await benchFollower(file, lines, bytes, size));
    const agent = await benchAgent(file, lines, bytes);
    if (agent) out.push(agent);
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const lines = Number(process.argv[2] ?? size(1_000_000, 2_000));
  const results = await runTailBench(lines);
  console.log(`tail read throughput, ${lines.toLocaleString('en')} lines (Node ${process.version})`);
  for (const r of results) {
    console.log(`  ${r.name.padEnd(52)} ${(r.linesPerSec / 1e6).toFixed(2)} M lines/s  ${r.mbPerSec.toFixed(0).padStart(4)} MB/s  (${r.ms.toFixed(0)} ms)`);
  }
}
