/** Agent processes for the benchmarks: start one on a config, read its CPU and memory, stop it. */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
