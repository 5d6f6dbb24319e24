/**
 * End-to-end link tests: two real agents (`node dist/core/cli/main.js run ...`), the enclave
 * side tailing a numbered file into vsock-forward, the parent side receiving with the vsock input
 * into rotated-file. `assertDelivered()` checks the parent's file line by line (test/helpers/checker.ts).
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkLines } from '../helpers/checker.js';
import { startCli, waitExit, type RunningCli } from '../helpers/cli.js';
import { numberedText } from '../helpers/lines.js';
import type { HasAfter } from '../helpers/tmp.js';
import { writeConfig } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

export interface Side {
  /** 'listen' or 'connect', with the URI. */
  mode: 'listen' | 'connect';
  uri: string;
  /** Extra plugin options (YAML lines, indented for the entry; a map or list is written as JSON, which YAML reads). */
  extra?: Record<string, string | number | boolean | object>;
}

function opts(extra: Side['extra'] = {}): string {
  return Object.entries(extra)
    .map(([k, v]) => `      ${k}: ${typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v)}\n`)
    .join('');
}

/** `source`: the file the enclave tails, in `dir` (several enclaves need one each). */
export function enclaveConfig(dir: string, side: Side, name = 'enclave', source = 'source.log'): string {
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
      path: ${join(dir, source)}
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

/** `outputs`: more output entries (YAML, indented as list items of `outputs:`) after the rotated-file. */
export function parentConfig(dir: string, side: Side, name = 'parent', outputs = ''): string {
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
${outputs}`,
  );
}

/** Short lines unless a case needs volume: `L000000001 xxxx`. */
export const LINK_LINE_BYTES = 16;

/** Append the numbered lines `from` .. `to` (test/helpers/lines.ts, `lineBytes` each) to the source file. */
export function writeLines(dir: string, from: number, to: number, lineBytes = LINK_LINE_BYTES): void {
  appendFileSync(join(dir, 'source.log'), numberedText('L', from, to + 1, lineBytes));
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

/**
 * The parent's file holds lines 1 .. n (as written by writeLines with `lineBytes`), each once, in
 * order, and nothing else.
 */
export function assertDelivered(dir: string, n: number, lineBytes = LINK_LINE_BYTES): void {
  const lines = outLines(dir);
  const r = checkLines(lines, 'L', 1, n, lineBytes);
  assert.deepEqual(
    { count: lines.length, lost: r.lost, duplicated: r.duplicated, altered: r.altered, foreign: r.foreign, outOfOrder: r.outOfOrder },
    { count: n, lost: 0, duplicated: 0, altered: 0, foreign: [], outOfOrder: 0 },
    r.firstProblem,
  );
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
