/**
 * End-to-end link tests: two real agents (`node dist/core/cli/main.js run ...`), the enclave
 * side tailing a numbered file into vsock-forward, the parent side receiving with the vsock input
 * into rotated-file. `check()` says which lines are missing, duplicated or out of order.
 */
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, waitExit, type RunningCli } from '../helpers/cli.js';
import type { HasAfter } from '../helpers/tmp.js';
import { writeConfig } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

export interface Side {
  /** 'listen' or 'connect', with the URI. */
  mode: 'listen' | 'connect';
  uri: string;
  /** Extra plugin options (YAML lines, indented for the entry). */
  extra?: Record<string, string | number | boolean>;
}

function opts(extra: Record<string, string | number | boolean> = {}): string {
  return Object.entries(extra)
    .map(([k, v]) => `      ${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}\n`)
    .join('');
}

export function enclaveConfig(dir: string, side: Side, name = 'enclave'): string {
  return writeConfig(
    dir,
    `${name}.yaml`,
    `
service:
  log_level: info
  state_dir: ${join(dir, `state-${name}`)}
  grace: 2s
pipeline:
  inputs:
    - name: tail
      tag: app
      path: ${join(dir, 'source.log')}
      read_from_head: true
      refresh_interval: 100ms
  outputs:
    - name: vsock-forward
      match: '*'
      ${side.mode}: ${side.uri}
      workers: 4
      reconnect_base: 50ms
      reconnect_max: 300ms
      heartbeat: 1s
${opts(side.extra)}`,
  );
}

export function parentConfig(dir: string, side: Side, name = 'parent'): string {
  return writeConfig(
    dir,
    `${name}.yaml`,
    `
service:
  log_level: info
  state_dir: ${join(dir, `state-${name}`)}
  grace: 2s
pipeline:
  inputs:
    - name: vsock
      ${side.mode}: ${side.uri}
      reconnect_base: 50ms
      reconnect_max: 300ms
${opts(side.extra)}  outputs:
    - name: rotated-file
      match: '*'
      workspace: ${join(dir, 'out')}
      file: app.log
      rotate_size: 512MB
`,
  );
}

/** Append lines `line <from>` .. `line <to>` (each followed by `pad`) to the source file. */
export function writeLines(dir: string, from: number, to: number, pad = ''): void {
  let s = '';
  for (let i = from; i <= to; i++) s += `line ${i}${pad}\n`;
  appendFileSync(join(dir, 'source.log'), s);
}

export function resetSource(dir: string): void {
  writeFileSync(join(dir, 'source.log'), '');
}

export function outLines(dir: string): string[] {
  const f = join(dir, 'out', 'app.log');
  if (!existsSync(f)) return [];
  const text = readFileSync(f, 'utf8');
  return text ? text.split('\n').filter((l) => l !== '') : [];
}

/** Size of the parent's file (cheap progress check). */
export function outBytes(dir: string): number {
  try {
    return statSync(join(dir, 'out', 'app.log')).size;
  } catch {
    return 0;
  }
}

export interface CheckResult {
  count: number;
  missing: number;
  duplicated: number;
  outOfOrder: number;
  firstProblem?: string;
}

/** Compare the parent's file with `line 1` .. `line n` (whatever padding follows the number). */
export function check(dir: string, n: number): CheckResult {
  const lines = outLines(dir);
  const seen = new Uint8Array(n + 1);
  let duplicated = 0;
  let outOfOrder = 0;
  let last = 0;
  let firstProblem: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const sp = lines[i]!.indexOf(' ', 5);
    const v = Number(lines[i]!.slice(5, sp < 0 ? undefined : sp));
    if (!lines[i]!.startsWith('line ') || !(v >= 1 && v <= n)) {
      firstProblem ??= `foreign line ${JSON.stringify(lines[i])} at ${i + 1}`;
      continue;
    }
    if (seen[v]) {
      duplicated++;
      firstProblem ??= `duplicate ${v} at ${i + 1}`;
    }
    seen[v] = 1;
    if (v !== last + 1) {
      outOfOrder++;
      firstProblem ??= `line ${v} after line ${last} at ${i + 1}`;
    }
    last = v;
  }
  let missing = 0;
  for (let v = 1; v <= n; v++) if (!seen[v]) missing++;
  return { count: lines.length, missing, duplicated, outOfOrder, firstProblem };
}

/** Wait until the parent's file holds `n` lines; the timeout error quotes the agents' last log lines. */
export async function waitForCount(dir: string, n: number, timeoutMs: number, agents: RunningCli[] = []): Promise<void> {
  await waitFor(() => outLines(dir).length >= n, {
    timeoutMs,
    intervalMs: 50,
    what: () => {
      const logs = agents.map((a, i) => `--- agent ${i} stderr (last 15):\n${a.stderr.slice(-15).join('\n')}`).join('\n');
      return `${n} lines in the parent's file (${outLines(dir).length} there)\n${logs}`;
    },
  });
}

export function start(t: HasAfter, dir: string, config: string): RunningCli {
  return startCli(['run', config], { cwd: dir, owner: t, killAfterMs: 110_000 });
}

export async function stop(...agents: RunningCli[]): Promise<void> {
  for (const a of agents) a.signal('SIGTERM');
  await Promise.all(agents.map((a) => waitExit(a, 10_000)));
}

/** Messages of the agent's log lines (pino JSON on stderr). */
export function messages(a: RunningCli): string[] {
  return a.logs().map((l) => String(l.msg));
}
