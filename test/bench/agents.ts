/**
 * Processes for the benchmarks (an agent on a config, or a tool), their CPU and memory, and the
 * files they move: the generated input, the output's size and whether it is the input.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/wait.js';
import { SMOKE } from './smoke.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/core/cli/main.js');

/** CPU seconds (user + system), peak and current RSS of a process, from /proc (zeros once it is gone). */
export function procStats(pid: number): { cpu: number; hwm: number; rss: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    return { cpu: ticks / 100, hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return { cpu: 0, hwm: 0, rss: 0 };
  }
}

/** Any program, stdout and stderr to <dir>/<name>.log (socat, Fluent Bit: the comparisons). */
export function spawnTool(dir: string, name: string, cmd: string, args: string[]): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), 'w');
  return spawn(cmd, args, { cwd: dir, stdio: ['ignore', log, log] });
}

/** `qlog run <dir>/<name>.yaml`, stderr to <dir>/<name>.stderr; executed as the installed bin is (its shebang carries the agent's V8 flags). */
export function spawnAgent(dir: string, name: string, yaml: string): ChildProcess {
  const cfg = join(dir, `${name}.yaml`);
  writeFileSync(cfg, yaml);
  const err = openSync(join(dir, `${name}.stderr`), 'w');
  return spawn(CLI, ['run', cfg], { cwd: dir, stdio: ['ignore', 'ignore', err] });
}

/** SIGTERM, then SIGKILL after 10 s; resolves when it exited. */
export async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

/**
 * `n` log lines of 126 bytes (with the newline, for tag 42) into `file`, numbered from 1, `service[<tag>]`
 * telling the files of one run apart. Returns the bytes written.
 */
export function writeLines(file: string, n: number, tag = 42): number {
  const fd = openSync(file, 'w');
  const pad = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(4);
  const head = `2026-11-23T12:00:00.000Z INFO service[${tag}]: request `;
  let buf = '';
  let bytes = 0;
  for (let i = 1; i <= n; i++) {
    buf += `${head}${String(i).padStart(8, '0')} ok ${pad.slice(0, 62)}\n`;
    if (buf.length > 1 << 20) {
      bytes += Buffer.byteLength(buf);
      writeFileSync(fd, buf);
      buf = '';
    }
  }
  bytes += Buffer.byteLength(buf);
  writeFileSync(fd, buf);
  closeSync(fd);
  return bytes;
}

export function fileSize(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

export function sha256(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}

/** Whether `out` holds the lines of `input`, as a multiset, and in the same order too. */
export function sameLines(input: string, out: string): { same: boolean; inOrder: boolean } {
  if (fileSize(input) !== fileSize(out)) return { same: false, inOrder: false };
  if (sha256(input) === sha256(out)) return { same: true, inOrder: true };
  const a = readFileSync(input, 'latin1').split('\n').sort();
  const b = readFileSync(out, 'latin1').split('\n').sort();
  return { same: a.length === b.length && a.every((l, i) => l === b[i]), inOrder: false };
}

/** A listener is up once its unix socket exists. */
export async function listening(sock: string): Promise<void> {
  await waitFor(() => existsSync(sock), { timeoutMs: 30_000, what: `a listener on ${sock}` });
}

/**
 * Poll (every 5 ms) until `out` holds `bytes` bytes; returns the milliseconds since `t0`. Gives up
 * when one of `procs` failed (`mayExit`: exited non-zero or by a signal; else: exited at all) or
 * after 300 s (30 s in smoke mode), returning NaN: the caller's output check then fails.
 */
export async function untilSize(out: string, bytes: number, t0: number, procs: ChildProcess[], mayExit: boolean): Promise<number> {
  const deadline = t0 + (SMOKE ? 30_000 : 300_000);
  const failed = (p: ChildProcess) => p.signalCode !== null || (p.exitCode !== null && (!mayExit || p.exitCode !== 0));
  while (fileSize(out) < bytes) {
    if (performance.now() > deadline || procs.some(failed)) return Number.NaN;
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
}
