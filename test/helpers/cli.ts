/**
 * Spawning the real CLI (`node dist/core/cli/main.js ...`; run `npm run build` first).
 *
 *   const r = await runCli(['validate', 'x.yaml'], { cwd: dir });          // runs to completion
 *   const a = startCli(['run', 'x.yaml'], { cwd: dir });                     // keeps running
 *   await a.waitForLine(/^hello 3$/);                                         // stdout, with a timeout
 *   await a.waitForLine((l) => l.includes('started'), { stream: 'stderr' });
 *   a.signal('SIGTERM'); const { code } = await a.exited;
 *
 * Pass `owner: t` to SIGKILL the child when the test ends (a failed assertion must not leave an
 * agent running); every child is also killed (by its pid) when the test process exits, and has a
 * hard deadline (`killAfterMs`, default 30 s), so a hung agent cannot hang the suite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './wait.js';
import type { HasAfter } from './tmp.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/core/cli/main.js', import.meta.url));

/** The CLI's shebang, `#!/usr/bin/env -S NAME=value ... node --opt ...`: its assignments and node options. */
function shebang(): { env: string[]; args: string[] } {
  try {
    const first = readFileSync(CLI, 'utf8').split('\n', 1)[0]!;
    const m = /^#!\S*env -S((?:\s+[A-Z_]+=\S+)*)\s+node((?:\s+--?[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
    const words = (s: string) => s.trim().split(/\s+/).filter(Boolean);
    return m ? { env: words(m[1]!), args: words(m[2]!) } : { env: [], args: [] };
  } catch {
    return { env: [], args: [] };
  }
}

/** The node options of the CLI's shebang: to run node as `qlog` does (with shebangEnv()). */
export function shebangNodeArgs(): string[] {
  return shebang().args;
}

/** The environment the CLI's shebang sets (`MALLOC_ARENA_MAX=1`), as `NAME=value` words. */
export function shebangEnv(): string[] {
  return shebang().env;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
});

export interface CliOptions {
  /** Working directory of the agent (its state_dir defaults to <cwd>/.qlog-state). Use a temp dir. */
  cwd?: string;
  /** Extra environment variables (merged over process.env). */
  env?: Record<string, string | undefined>;
  /** SIGKILL the child after this long (default 30 s). */
  killAfterMs?: number;
  /** The test (context): the child is SIGKILLed when it ends, so a failed assertion does not leave it running. */
  owner?: HasAfter;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliResult extends Exit {
  stdout: string;
  stderr: string;
}

export interface WaitLineOptions {
  stream?: 'stdout' | 'stderr';
  timeoutMs?: number;
  /** Only lines at or after this index count (e.g. the length before a reload). */
  from?: number;
}

export interface RunningCli {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Complete stdout lines so far (without newlines). */
  readonly stdout: string[];
  /** Complete stderr lines so far. */
  readonly stderr: string[];
  /** Resolves when the process has exited and its output is read to the end. */
  readonly exited: Promise<Exit>;
  /** Wait for a line matching `match` (a RegExp or predicate); resolves with it. */
  waitForLine(match: RegExp | ((line: string) => boolean), opts?: WaitLineOptions): Promise<string>;
  /** Send a signal to this child (by pid). No-op once it has exited. */
  signal(sig: NodeJS.Signals): void;
  /** stderr lines that are pino JSON, parsed (others skipped). */
  logs(): Record<string, unknown>[];
}

function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: run "npm run build" before these tests`);
}

function lineCollector(stream: NodeJS.ReadableStream | null, into: string[], onLine: () => void): Promise<void> {
  return new Promise((resolve) => {
    if (!stream) return resolve();
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      rest += d;
      let i: number;
      while ((i = rest.indexOf('\n')) >= 0) {
        into.push(rest.slice(0, i));
        rest = rest.slice(i + 1);
      }
      onLine();
    });
    stream.on('end', () => {
      if (rest) into.push(rest);
      onLine();
      resolve();
    });
    stream.on('error', () => resolve());
  });
}

/** Start `qlog <args>` and keep it running; see the module comment. */
export function startCli(args: string[], opts: CliOptions = {}): RunningCli {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const f of [...listeners]) f();
  };
  const read = Promise.all([lineCollector(child.stdout, stdout, notify), lineCollector(child.stderr, stderr, notify)]);
  const killer = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), opts.killAfterMs ?? 30_000);
  opts.owner?.after(() => {
    if (!done && child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  });
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      void read.then(() => {
        children.delete(child);
        done = true;
        notify();
        resolve({ code, signal });
      });
    });
  });

  const waitForLine: RunningCli['waitForLine'] = (match, o = {}) => {
    const lines = o.stream === 'stderr' ? stderr : stdout;
    const test = typeof match === 'function' ? match : (l: string) => match.test(l);
    const timeoutMs = o.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      let checked = o.from ?? 0;
      const check = () => {
        for (; checked < lines.length; checked++) {
          if (test(lines[checked]!)) {
            cleanup();
            return resolve(lines[checked]!);
          }
        }
        if (done) {
          cleanup();
          reject(
            new Error(
              `process exited before printing a line matching ${String(match)} on ${o.stream ?? 'stdout'}\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `no line matching ${String(match)} on ${o.stream ?? 'stdout'} within ${timeoutMs} ms\nstdout (last 20):\n${stdout.slice(-20).join('\n')}\nstderr (last 20):\n${stderr.slice(-20).join('\n')}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  };

  return {
    child,
    pid: child.pid!,
    stdout,
    stderr,
    exited,
    waitForLine,
    signal(sig) {
      if (!done && child.exitCode === null && child.pid) process.kill(child.pid, sig);
    },
    logs() {
      const out: Record<string, unknown>[] = [];
      for (const l of stderr) {
        if (!l.startsWith('{')) continue;
        try {
          out.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          /* not a log line */
        }
      }
      return out;
    },
  };
}

/** Run `qlog <args>` to completion (killed after `killAfterMs`, default 30 s). */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const c = startCli(args, opts);
  const exit = await c.exited;
  const join = (l: string[]) => (l.length ? `${l.join('\n')}\n` : '');
  return { ...exit, stdout: join(c.stdout), stderr: join(c.stderr) };
}

/** Wait until the running agent has exited, failing after `timeoutMs`. */
export function waitExit(c: RunningCli, timeoutMs = 10_000): Promise<Exit> {
  return withTimeout(c.exited, timeoutMs, `pid ${c.pid} to exit\nstderr (last 20):\n${c.stderr.slice(-20).join('\n')}`);
}
