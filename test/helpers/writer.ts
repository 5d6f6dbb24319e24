/**
 * The line writer: a child process (writer-process.ts) that appends numbered lines (lines.ts)
 * to a file while the test's reader reads, paced, optionally rotating the file.
 *
 *   const w = await runWriter({ path, total: 40_000, mode: 'rename', everyLines: 10_000 });
 *   checkLines(got, 'L', w.first, w.last);
 *   const { done, proc } = startWriter({ path, rate: 5000, total: 30_000, mode: 'copytruncate', everyMs: 300 });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './wait.js';

export interface WriterOptions {
  /** The file appended to. */
  path: string;
  /** First line number (default 1) and how many lines. */
  first?: number;
  total: number;
  /** Line format (lines.ts): prefix (default 'L') and bytes a line (default 100). */
  prefix?: string;
  lineBytes?: number;
  /** End lines with CR LF. */
  crlf?: boolean;
  /**
   * Lines per second, written every 5 ms. Without a rate: as fast as possible, `batch` lines a
   * write (default 50) with a 1 ms pause every `sleepEvery` writes (default 20).
   */
  rate?: number;
  batch?: number;
  sleepEvery?: number;
  /** Rotation, logrotate-like: rename to <path>.1 and create, or copy to <path>.1 and truncate; older ones shift to .2 .. .keep (default 5). */
  mode?: 'none' | 'rename' | 'copytruncate';
  keep?: number;
  /** With a rate: rotate every this many ms (default 200). */
  everyMs?: number;
  /** Without a rate: rotate after every this many lines. */
  everyLines?: number;
  /** rename: lines still written to the old file before the new one is created. */
  lateWrites?: number;
  /** Pause after each rotation (let the reader see the new file before the next one). */
  afterRotateMs?: number;
}

export interface WriterSummary {
  written: number;
  first: number;
  last: number;
  /** First line written after each rotation (a generation is [rotations[i], rotations[i+1] - 1]). */
  rotations: number[];
}

export interface WriterHooks {
  /** Before each rotation: resolve to let it happen (`first` = number of the current file's first line). */
  beforeRotate?: (first: number) => Promise<void>;
}

const script = fileURLToPath(new URL('./writer-process.ts', import.meta.url));

/** Start the writer; `done` resolves with its summary when it has written everything. */
export function startWriter(o: WriterOptions, hooks: WriterHooks = {}): { done: Promise<WriterSummary>; proc: ChildProcess } {
  const handshake = !!hooks.beforeRotate;
  const proc = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify({ ...o, handshake })], {
    stdio: ['ignore', 'pipe', 'inherit', ...(handshake ? (['ipc'] as const) : [])],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  const done = new Promise<WriterSummary>((resolve, reject) => {
    proc.on('message', (m: { first: number }) => {
      hooks.beforeRotate!(m.first).then(
        () => proc.connected && proc.send('go'),
        (err: unknown) => {
          proc.kill('SIGKILL');
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
    proc.once('error', reject);
    proc.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as WriterSummary) : reject(new Error(`writer exited with ${code}`)),
    );
  });
  return { done, proc };
}

/** Run the writer to the end (SIGKILLed after `timeoutMs`). */
export async function runWriter(o: WriterOptions, hooks: WriterHooks = {}, timeoutMs = 45_000): Promise<WriterSummary> {
  const { done, proc } = startWriter(o, hooks);
  try {
    return await withTimeout(done, timeoutMs, `the writer to write ${o.total} lines to ${o.path}`);
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
}
