/**
 * Rig for vsock-forward `upstream:` tests with real agents: three receivers (each a parent agent:
 * vsock listening on its own unix socket -> rotated-file in its own workspace `out-<i>/`) and one
 * enclave agent tailing numbered source files (one tail input per prefix, tag = the prefix) into
 * vsock-forward with `upstream:` the three sockets.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkLines, type CheckResult } from '../helpers/checker.js';
import type { RunningCli } from '../helpers/cli.js';
import { numberedText } from '../helpers/lines.js';
import { writeConfig, type HasAfter } from '../helpers/tmp.js';
import { httpGet } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';
import { start } from './link.js';

export const NODES = 3;
export const LINE_BYTES = 16;

export function nodeSock(dir: string, i: number): string {
  return join(dir, `node${i}.sock`);
}

export function receiverConfig(dir: string, i: number): string {
  return writeConfig(
    dir,
    `node${i}.yaml`,
    `
service:
  log_level: info
  state_dir: ${join(dir, `state-node${i}`)}
  grace: 2s
pipeline:
  inputs:
    - name: vsock
      listen: unix://${nodeSock(dir, i)}
  outputs:
    - name: rotated-file
      match: '*'
      workspace: ${join(dir, `out-${i}`)}
      file: app.log
      rotate_size: 512MB
`,
  );
}

export function enclaveConfig(dir: string, prefixes: readonly string[], extra: Record<string, string | number>, httpPort?: number): string {
  const inputs = prefixes
    .map(
      (p) => `    - name: tail
      tag: ${p}
      path: ${join(dir, `${p}.log`)}
      read_from_head: true
      refresh_interval: 50ms
`,
    )
    .join('');
  const opts = Object.entries(extra)
    .map(([k, v]) => `      ${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}\n`)
    .join('');
  return writeConfig(
    dir,
    'enclave.yaml',
    `
service:
  log_level: info
  state_dir: ${join(dir, 'state-enclave')}
${httpPort ? `  http_listen: 127.0.0.1:${httpPort}\n` : ''}  grace: 2s
pipeline:
  inputs:
${inputs}  outputs:
    - name: vsock-forward
      match: '*'
      upstream: [${Array.from({ length: NODES }, (_, i) => `"unix://${nodeSock(dir, i)}"`).join(', ')}]
      workers: 4
      reconnect_base: 50ms
      reconnect_max: 300ms
      heartbeat: 1s
${opts}`,
  );
}

export function startReceiver(t: HasAfter, dir: string, i: number): RunningCli {
  return start(t, dir, receiverConfig(dir, i));
}

export function resetSources(dir: string, prefixes: readonly string[]): void {
  for (const p of prefixes) writeFileSync(join(dir, `${p}.log`), '');
}

/** Append lines `from` .. `to` of `prefix` to its source file. */
export function writeLines(dir: string, prefix: string, from: number, to: number): void {
  appendFileSync(join(dir, `${prefix}.log`), numberedText(prefix, from, to + 1, LINE_BYTES));
}

/** Lines of receiver i's file starting with `prefix` (all its lines when no prefix). */
export function nodeLines(dir: string, i: number, prefix = ''): string[] {
  const f = join(dir, `out-${i}`, 'app.log');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && l.startsWith(prefix));
}

export function unionCount(dir: string, prefix: string): number {
  const seen = new Set<string>();
  for (let i = 0; i < NODES; i++) for (const l of nodeLines(dir, i, prefix)) seen.add(l);
  return seen.size;
}

/**
 * Lines 1 .. n that are in some receiver's file, counted from 1 without a gap: the offset the
 * enclave may have committed, in lines, is never more than that.
 */
export function contiguousDelivered(dir: string, prefix: string): number {
  const have = new Set<string>();
  for (let i = 0; i < NODES; i++) for (const l of nodeLines(dir, i, prefix)) have.add(l.slice(0, prefix.length + 9));
  let n = 0;
  while (have.has(`${prefix}${String(n + 1).padStart(9, '0')}`)) n++;
  return n;
}

/** The enclave's committed tail offsets, in lines, by source prefix (0 while none). */
export function committedLines(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const stateDir = join(dir, 'state-enclave');
  if (!existsSync(stateDir)) return out;
  for (const f of readdirSync(stateDir).filter((x) => x.endsWith('.offsets.json'))) {
    try {
      const s = JSON.parse(readFileSync(join(stateDir, f), 'utf8')) as { files: Record<string, { path: string; offset: number }> };
      for (const e of Object.values(s.files)) out[e.path.replace(/^.*\//, '').replace(/\.log$/, '')] = e.offset / LINE_BYTES;
    } catch {
      // being replaced: the next look reads it
    }
  }
  return out;
}

export interface UnionReport {
  /** Each receiver's check of its own lines (duplicated within one receiver must be 0; `lost` and `outOfOrder` count the other nodes' lines as gaps). */
  perNode: CheckResult[];
  /** Lines per receiver. */
  counts: number[];
  /** Lines of 1..n in no receiver. */
  lost: number;
  /** Lines in two receivers or more (each counted once per extra copy). */
  duplicated: number;
  /** The duplicated line numbers. */
  duplicatedLines: number[];
}

/** Check lines 1..n of `prefix` over the union of the receivers' files. */
export function checkUnion(dir: string, prefix: string, n: number): UnionReport {
  const perNode: CheckResult[] = [];
  const counts: number[] = [];
  const copies = new Map<number, number>();
  for (let i = 0; i < NODES; i++) {
    const lines = nodeLines(dir, i, prefix);
    counts.push(lines.length);
    const r = checkLines(lines, prefix, 1, n, LINE_BYTES);
    perNode.push(r);
    // A receiver has gaps (lines other nodes got) but never a line twice or going backwards.
    let backwards = 0;
    let previous = 0;
    for (const l of lines) {
      const k = Number(l.slice(prefix.length, prefix.length + 9));
      if (k <= previous) backwards++;
      previous = k;
      copies.set(k, (copies.get(k) ?? 0) + 1);
    }
    assert.deepEqual(
      { node: i, duplicated: r.duplicated, altered: r.altered, foreign: r.foreign, backwards },
      { node: i, duplicated: 0, altered: 0, foreign: [], backwards: 0 },
      r.firstProblem,
    );
  }
  let lost = 0;
  let duplicated = 0;
  const duplicatedLines: number[] = [];
  for (let k = 1; k <= n; k++) {
    const c = copies.get(k) ?? 0;
    if (c === 0) lost++;
    if (c > 1) {
      duplicated += c - 1;
      duplicatedLines.push(k);
    }
  }
  return { perNode, counts, lost, duplicated, duplicatedLines };
}

/** The enclave's vsock-forward counters (service.http_listen on `port`). */
export async function forwardCounters(port: number): Promise<Record<string, number>> {
  const r = await httpGet(`http://127.0.0.1:${port}/api/v1/metrics`);
  return (JSON.parse(r.body) as { name: string; counters: Record<string, number> }[]).find((x) => x.name === 'vsock-forward')?.counters ?? {};
}

/** Wait until the enclave is connected to every receiver (its log says so once per node). */
export async function waitAllConnected(enclave: RunningCli): Promise<void> {
  await waitFor(() => enclave.logs().filter((l) => /: connected to unix:/.test(String(l.msg))).length >= NODES, {
    timeoutMs: 20_000,
    intervalMs: 20,
    what: () => `the enclave connected to ${NODES} receivers\n${enclave.stderr.slice(-10).join('\n')}`,
  });
}

/** Chunks the enclave moved off a lost node, from its log ("<n> chunks not acknowledged by ..."). */
export function movedChunks(enclave: RunningCli): number {
  let n = 0;
  for (const l of enclave.logs()) {
    const m = /^\S+: (\d+) chunks not acknowledged by /.exec(String(l.msg));
    if (m) n += Number(m[1]);
  }
  return n;
}
