/**
 * Sealing cost end to end (issue 17): the e2e pair of agents (pair.ts),
 *   enclave: tail -> vsock-forward [seal: on|off] --unix socket--> parent: vsock -> rotated-file
 * on 1,000,000 generated lines of 126 bytes, sealing off and on alternated RUNS times: wall time
 * until the parent has written every line (off) or every unit (on), by its delivery state; CPU of
 * the enclave agent (user + system) per million lines, and the parent's. Target: sealing on at
 * most 25% slower end to end. Writes its section of docs/benchmarks.md (bench:sealing).
 * Run: npm run bench -- seal-e2e   (env LINES=..., RUNS=...)
 * QLOG_BENCH_SMOKE=1: 5,000 lines, one run; checks only, docs/ untouched.
 * Exits 1 when the parent's output is not the input: plain, by SHA-256; sealed, by SHA-256 of the
 * opened units (core/seal's opener), with no line of the input in the parent's file.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readState } from '../../plugins/rotated-file/rotated-file-state.js';
import { openSealedLines, sealKeys } from '../helpers/sealed.js';
import { listening, procStats, sha256, spawnAgent, stop, writeLines } from './agents.js';
import { enclaveYaml, parentYaml } from './pair.js';
import { median, provenance, RUNS, spread, writeSection } from './report.js';
import { check, size, SMOKE } from './smoke.js';

const LINES = Number(process.env.LINES ?? size(1_000_000, 5_000));
const dir = mkdtempSync(join(tmpdir(), 'qlog-bench-seal-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The parent's delivery state (rotated-file, base + journal): the highest seq written, which reaches the input's
 * size when the last line (off) or the last unit (on) is in the file. The same cheap signal for
 * both modes (reading a growing 250 MB file of units would cost the bench CPU the agents need).
 */
function written(state: string): number {
  let hw = 0;
  try {
    // The base appears at the first fold of the journal (or the close): either names the state.
    const bases = new Set(readdirSync(state).map((f) => /^(rotated-file\.\d+\.file-.*\.json)(\.journal)?$/.exec(f)?.[1]));
    for (const f of bases) if (f) for (const seq of readState(join(state, f)).hw.values()) hw = Math.max(hw, seq);
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

async function run(input: string, bytes: number, sealed: boolean, i: number, key: { recipient: string; identityFile: string }): Promise<Run> {
  const tag = `${sealed ? 'on' : 'off'}${i}`;
  const ws = join(dir, `ws-${tag}`);
  const sock = join(dir, `${tag}.sock`);
  const pstate = join(dir, `pstate-${tag}`);
  const parent = spawnAgent(dir, `parent-${tag}`, parentYaml(sock, ws, pstate));
  await listening(sock);
  const t0 = performance.now();
  const seal = sealed ? `      seal: { recipients: [${key.recipient}] }\n` : '';
  const enclave = spawnAgent(dir, `enclave-${tag}`, enclaveYaml(sock, input, join(dir, `estate-${tag}`)) + seal);
  const deadline = Date.now() + (SMOKE ? 30_000 : 600_000);
  while (written(pstate) < bytes && Date.now() < deadline) await sleep(20);
  const ms = performance.now() - t0;
  const e = procStats(enclave.pid!);
  const p = procStats(parent.pid!);
  await stop(enclave);
  await stop(parent);
  const out = join(ws, 'out.log');
  let ok: boolean;
  if (sealed) {
    const stored = readFileSync(out, 'latin1');
    const o = openSealedLines(stored.split('\n').filter(Boolean), key.identityFile);
    ok = o.plain.length === 0 && !stored.includes('INFO service[42]: request') && `${o.lines.join('\n')}\n` === readFileSync(input, 'latin1');
  } else ok = sha256(out) === sha256(input);
  rmSync(ws, { recursive: true, force: true });
  return { ms, enclaveCpu: e.cpu, parentCpu: p.cpu, ok };
}

const input = join(dir, 'input.log');
const bytes = writeLines(input, LINES);
const key = sealKeys(dir);
const results: Record<'off' | 'on', Run[]> = { off: [], on: [] };
try {
  for (let i = 0; i < RUNS; i++) {
    for (const mode of ['off', 'on'] as const) {
      const r = await run(input, bytes, mode === 'on', i, key);
      check(r.ok, `sealing ${mode}, run ${i}: the parent's output is not the input`);
      results[mode].push(r);
      console.log(
        `sealing ${mode.padEnd(3)} run ${i}: ${(r.ms / 1000).toFixed(2)} s wall, enclave CPU ${r.enclaveCpu.toFixed(2)} s, parent CPU ${r.parentCpu.toFixed(2)} s`,
      );
    }
  }
  const m = LINES / 1e6;
  const row = (name: string, rs: Run[]) =>
    `| ${name} | ${spread(
      rs.map((r) => r.ms / 1000),
      2,
      ' s',
    )} | ${Math.round(LINES / (median(rs.map((r) => r.ms)) / 1000)).toLocaleString('en')} | ${spread(
      rs.map((r) => r.enclaveCpu / m),
      2,
      ' s',
    )} | ${spread(
      rs.map((r) => r.parentCpu / m),
      2,
      ' s',
    )} |`;
  const slower = (median(results.on.map((r) => r.ms)) / median(results.off.map((r) => r.ms)) - 1) * 100;
  const cpu = (median(results.on.map((r) => r.enclaveCpu)) / median(results.off.map((r) => r.enclaveCpu)) - 1) * 100;
  const verdict = `Sealing on: ${slower >= 0 ? `${slower.toFixed(0)}% slower` : `${(-slower).toFixed(0)}% faster`} end to end (median; target: at most 25% slower), enclave CPU ${cpu >= 0 ? '+' : ''}${cpu.toFixed(0)}%.`;
  const table = `| sealing | wall | lines/s | enclave CPU per 1M lines | parent CPU per 1M lines |
|---|---|---|---|---|
${row('off', results.off)}
${row('on', results.on)}`;
  console.log(`\n${LINES} lines (${(bytes / 1e6).toFixed(0)} MB), ${RUNS} runs each:\n${table}\n${verdict}${SMOKE ? ' [smoke: not a measurement]' : ''}`);
  writeSection(
    'sealing',
    `### Sealing (vsock-forward \`seal:\`)

The e2e pair (tail -> vsock-forward -> vsock -> rotated-file) on ${LINES.toLocaleString('en')} lines of 126 bytes, sealing off and
on alternated; on: one age recipient, no signature. Wall time until the parent's delivery state covers the whole input.
${provenance('npm run bench -- seal-e2e')}

${table}

${verdict}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
