/**
 * Sealing cost end to end (issue 17): the e2e pipeline, two real agents,
 *   enclave: tail -> vsock-forward [seal: on|off] --unix socket--> parent: vsock -> rotated-file
 * on a generated file of 1,000,000 lines of ~120 bytes, sealing off and on (alternated, best of
 * ROUNDS): wall time until the parent has written every line (off) or every unit (on), by its
 * delivery state; CPU of the enclave agent (user + system) and its CPU per million lines, and the
 * parent's. Target: sealing on at most 25% slower end to end.
 * Run: npm run bench -- seal-e2e   (env LINES=..., ROUNDS=...)
 * QLOG_BENCH_SMOKE=1: 5,000 lines, one round; checks only.
 * Exits 1 when the parent's output is not the input: plain, by SHA-256; sealed, by SHA-256 of the
 * opened units (core/seal's opener), with no line of the input in the parent's file.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { openSealedLines, sealKeys } from '../helpers/sealed.js';
import { procStats, spawnAgent, stop } from './agents.js';
import { check, size, SMOKE } from './smoke.js';

const LINES = Number(process.env.LINES ?? size(1_000_000, 5_000));
const ROUNDS = Number(process.env.ROUNDS ?? size(2, 1));
const dir = mkdtempSync(join(tmpdir(), 'qlog-bench-seal-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function generate(file: string, n: number): number {
  const fd = openSync(file, 'w');
  const pad = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(4);
  let buf = '';
  let bytes = 0;
  for (let i = 1; i <= n; i++) {
    buf += `2026-11-23T12:00:00.000Z INFO service[42]: request ${String(i).padStart(8, '0')} ok ${pad.slice(0, 120 - 58)}\n`;
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

const parentYaml = (sock: string, ws: string, state: string) => `service: { log_level: warn, state_dir: ${state} }
pipeline:
  inputs:
    - { name: vsock, listen: unix://${sock} }
  outputs:
    - { name: rotated-file, match: '*', workspace: ${ws}, file: out.log, rotate_size: 4GB, rotate_num: 2 }
`;
const enclaveYaml = (sock: string, path: string, state: string, recipient: string | undefined) => `service: { log_level: warn, state_dir: ${state} }
pipeline:
  inputs:
    - { name: tail, tag: bench, path: ${path}, read_from_head: true }
  outputs:
    - name: vsock-forward
      match: '*'
      connect: unix://${sock}
${recipient ? `      seal: { recipients: [${recipient}] }\n` : ''}`;

/**
 * The parent's delivery state (rotated-file): the highest seq written, which reaches the input's
 * size when the last line (off) or the last unit (on) is in the file. The same cheap signal for
 * both modes (reading a growing 250 MB file of units would cost the bench CPU the agents need).
 */
function written(state: string): number {
  let hw = 0;
  try {
    for (const f of readdirSync(state)) {
      if (!/^rotated-file\.\d+\.file-.*\.json$/.test(f)) continue;
      for (const [, seq] of (JSON.parse(readFileSync(join(state, f), 'utf8')) as { hw: [string, number][] }).hw) hw = Math.max(hw, seq);
    }
  } catch {
    /* not written yet, or replaced while read */
  }
  return hw;
}

interface Run {
  ms: number;
  enclaveCpu: number;
  parentCpu: number;
  ok: boolean;
}

async function run(input: string, bytes: number, sealed: boolean, i: number, recipient: string, identity: string): Promise<Run> {
  const tag = `${sealed ? 'on' : 'off'}${i}`;
  const ws = join(dir, `ws-${tag}`);
  const sock = join(dir, `${tag}.sock`);
  const pstate = join(dir, `pstate-${tag}`);
  const parent = spawnAgent(dir, `parent-${tag}`, parentYaml(sock, ws, pstate));
  await waitFor(() => existsSync(sock), { timeoutMs: 30_000, what: `the parent to listen on ${sock}` });
  const t0 = performance.now();
  const enclave = spawnAgent(dir, `enclave-${tag}`, enclaveYaml(sock, input, join(dir, `estate-${tag}`), sealed ? recipient : undefined));
  const out = join(ws, 'out.log');
  const deadline = Date.now() + 600_000;
  while (written(pstate) < bytes && Date.now() < deadline) await sleep(20);
  const ms = performance.now() - t0;
  const e = procStats(enclave.pid!);
  const p = procStats(parent.pid!);
  await stop(enclave);
  await stop(parent);
  const want = sha256(readFileSync(input));
  let ok: boolean;
  if (sealed) {
    const stored = readFileSync(out, 'latin1');
    const o = openSealedLines(stored.split('\n').filter(Boolean), identity);
    ok = sha256(Buffer.from(`${o.lines.join('\n')}\n`)) === want && o.plain.length === 0 && !stored.includes('INFO service[42]: request');
  } else ok = sha256(readFileSync(out)) === want;
  rmSync(ws, { recursive: true, force: true });
  return { ms, enclaveCpu: e.cpu, parentCpu: p.cpu, ok };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

const input = join(dir, 'input.log');
const bytes = generate(input, LINES);
const key = sealKeys(dir);
const results: Record<'off' | 'on', Run[]> = { off: [], on: [] };
try {
  for (let i = 0; i < ROUNDS; i++) {
    for (const mode of ['off', 'on'] as const) {
      const r = await run(input, bytes, mode === 'on', i, key.recipient, key.identityFile);
      check(r.ok, `sealing ${mode}, round ${i}: the parent's output is not the input`);
      results[mode].push(r);
      console.log(
        `sealing ${mode.padEnd(3)} round ${i}: ${(r.ms / 1000).toFixed(2)} s wall, enclave CPU ${r.enclaveCpu.toFixed(2)} s, parent CPU ${r.parentCpu.toFixed(2)} s${r.ok ? '' : '  (OUTPUT WRONG)'}`,
      );
    }
  }
  const best = (rs: Run[]) => rs.reduce((a, b) => (b.ms < a.ms ? b : a));
  const off = best(results.off);
  const on = best(results.on);
  const m = LINES / 1e6;
  const slower = (on.ms / off.ms - 1) * 100;
  console.log(`\n${LINES} lines (${(bytes / 1e6).toFixed(0)} MB), ${cpus().length} CPUs, best of ${ROUNDS}:`);
  console.log('| sealing | wall | lines/s | enclave CPU | enclave CPU per 1M lines | parent CPU |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, r] of [
    ['off', off],
    ['on', on],
  ] as const)
    console.log(
      `| ${name} | ${(r.ms / 1000).toFixed(2)} s | ${Math.round(LINES / (r.ms / 1000)).toLocaleString('en')} | ${r.enclaveCpu.toFixed(2)} s | ${(r.enclaveCpu / m).toFixed(2)} s | ${r.parentCpu.toFixed(2)} s |`,
    );
  console.log(
    `sealing on: ${slower >= 0 ? `${slower.toFixed(1)}% slower` : `${(-slower).toFixed(1)}% faster`} end to end (target: at most 25% slower)${SMOKE ? ' [smoke: not a measurement]' : ''}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
