/**
 * End-to-end benchmark (issue 7): two real agent processes,
 *   enclave: tail -> vsock-forward --unix socket--> parent: vsock -> rotated-file
 * on a generated file of 1,000,000 lines of ~120 bytes, against a raw baseline (the same file
 * copied through a unix socket into a file, no processing). Then p50/p99 latency from append to
 * arrival in the parent's file at a steady 10,000 lines/s, and the enclave agent's RSS when idle.
 * Writes docs/benchmarks.md. Run: npm run bench -- e2e   (env LINES=... to change the size)
 * QLOG_BENCH_SMOKE=1: 5,000 lines, 1 s of latency, short idle; checks only, docs/ untouched.
 * Exits 1 when the parent's file is not the input (by SHA-256) or latency lines went missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, fstatSync } from 'node:fs';
import { cpus, tmpdir, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { procStats, ROOT, spawnAgent as spawnBenchAgent, stop } from './agents.js';
import { check, size, SMOKE } from './smoke.js';

const LINES = Number(process.env.LINES ?? size(1_000_000, 5_000));
const LAT_RATE = 10_000;
const LAT_SECONDS = Number(process.env.LAT_SECONDS ?? size(10, 1));
const IDLE_MS = size(20_000, 500);
const AFTER_MS = size(15_000, 0);
const dir = mkdtempSync(join(tmpdir(), 'qlog-bench-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fileSize(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

/** The parent agent listens once its unix socket exists. */
async function listening(sock: string): Promise<void> {
  await waitFor(() => existsSync(sock), { timeoutMs: 30_000, what: `the parent agent to listen on ${sock}` });
}

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

function spawnAgent(name: string, yaml: string): ChildProcess {
  return spawnBenchAgent(dir, name, yaml);
}

const parentYaml = (sock: string, ws: string, state: string) => `service:
  log_level: warn
  state_dir: ${state}
pipeline:
  inputs:
    - name: vsock
      listen: unix://${sock}
  outputs:
    - name: rotated-file
      match: '*'
      workspace: ${ws}
      file: out.log
      rotate_size: 4GB
      rotate_num: 2
`;
const enclaveYaml = (sock: string, path: string, state: string) => `service:
  log_level: warn
  state_dir: ${state}
pipeline:
  inputs:
    - name: tail
      tag: bench
      path: ${path}
      read_from_head: true
  outputs:
    - name: vsock-forward
      match: '*'
      connect: unix://${sock}
`;

async function rawBaseline(input: string, bytes: number): Promise<number> {
  const sock = join(dir, 'raw.sock');
  const out = join(dir, 'raw.out');
  const recv = spawn(
    process.execPath,
    [
      '-e',
      `const net=require('net'),fs=require('fs');const s=net.createServer(c=>c.pipe(fs.createWriteStream(${JSON.stringify(out)})));s.listen(${JSON.stringify(sock)},()=>console.log('up'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((r) => recv.stdout!.once('data', r));
  const t0 = performance.now();
  const send = spawn(
    process.execPath,
    [
      '-e',
      `const net=require('net'),fs=require('fs');const c=net.connect(${JSON.stringify(sock)},()=>fs.createReadStream(${JSON.stringify(input)},{highWaterMark:1<<20}).pipe(c))`,
    ],
    { stdio: 'inherit' },
  );
  await waitFor(() => fileSize(out) >= bytes, { timeoutMs: 120_000, what: `${bytes} bytes in the raw copy` });
  const ms = performance.now() - t0;
  send.kill();
  recv.kill();
  return ms;
}

function sha256(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}

async function throughput(input: string, bytes: number) {
  const ws = join(dir, 'ws');
  const sock = join(dir, 'link.sock');
  const parent = spawnAgent('parent', parentYaml(sock, ws, join(dir, 'pstate')));
  await listening(sock);
  const t0 = performance.now();
  const enclave = spawnAgent('enclave', enclaveYaml(sock, input, join(dir, 'estate')));
  let peakE = 0;
  let peakP = 0;
  const out = join(ws, 'out.log');
  const deadline = Date.now() + 300_000;
  while (fileSize(out) < bytes && Date.now() < deadline) {
    peakE = Math.max(peakE, procStats(enclave.pid!).rss);
    peakP = Math.max(peakP, procStats(parent.pid!).rss);
    await sleep(20);
  }
  const ms = performance.now() - t0;
  const e = procStats(enclave.pid!);
  const p = procStats(parent.pid!);
  // Complete means the same bytes, in order, not only the same size.
  const ok = fileSize(out) === bytes && sha256(out) === sha256(input);
  // V8's memory reducer starts 8 s after activity stops: this sleep is the measurement.
  await sleep(AFTER_MS);
  const afterRss = procStats(enclave.pid!).rss;
  await stop(enclave);
  await stop(parent);
  return { ms, ok, got: fileSize(out), enclaveCpu: e.cpu, parentCpu: p.cpu, enclavePeak: Math.max(peakE, e.hwm), parentPeak: Math.max(peakP, p.hwm), afterRss };
}

/** RSS of an enclave agent with nothing to do: following an empty file, connected, 20 s after start. */
async function idle() {
  const sock = join(dir, 'idle.sock');
  const log = join(dir, 'idle.log');
  writeFileSync(log, '');
  const parent = spawnAgent('iparent', parentYaml(sock, join(dir, 'iws'), join(dir, 'ipstate')));
  await listening(sock);
  const enclave = spawnAgent('ienclave', enclaveYaml(sock, log, join(dir, 'iestate')));
  // The figure is the RSS after IDLE_MS of doing nothing: this sleep is the measurement.
  await sleep(IDLE_MS);
  const rss = procStats(enclave.pid!).rss;
  await stop(enclave);
  await stop(parent);
  return rss;
}

async function latency() {
  const ws = join(dir, 'lws');
  const sock = join(dir, 'lat.sock');
  const log = join(dir, 'lat.log');
  writeFileSync(log, '');
  const parent = spawnAgent('lparent', parentYaml(sock, ws, join(dir, 'lpstate')));
  await listening(sock);
  const enclave = spawnAgent('lenclave', enclaveYaml(sock, log, join(dir, 'lestate')));
  const out = join(ws, 'out.log');
  // Start measuring once a first line went through both agents (start-up is not latency).
  writeFileSync(log, 'warm-up\n');
  await waitFor(() => fileSize(out) > 0, { timeoutMs: 30_000, what: "the warm-up line in the parent's file" });
  const total = LAT_RATE * LAT_SECONDS;
  // Writer in-process on a timer; reader polls the parent's file every millisecond.
  const origin = Date.now() - performance.now();
  const wfd = openSync(log, 'a');
  let written = 0;
  const t0 = performance.now();
  const writer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * LAT_RATE));
    let s = '';
    for (; written < due; written++) s += `t=${(origin + performance.now()).toFixed(3)} seq=${written} ${'y'.repeat(80)}\n`;
    if (s) writeFileSync(wfd, s);
  }, 1);
  const lat: number[] = [];
  let pos = 0;
  let rest = '';
  const buf = Buffer.alloc(1 << 20);
  const end = Date.now() + LAT_SECONDS * 1000 + 15_000;
  while (lat.length < total && Date.now() < end) {
    if (!existsSync(out)) {
      await sleep(1);
      continue;
    }
    const fd = openSync(out, 'r');
    for (;;) {
      if (fstatSync(fd).size <= pos) break;
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      pos += n;
      const now = origin + performance.now();
      const text = rest + buf.toString('utf8', 0, n);
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        const m = /^t=(\d+\.\d+) /.exec(l);
        if (m) lat.push(now - Number(m[1]));
      }
    }
    closeSync(fd);
    await sleep(1);
  }
  clearInterval(writer);
  closeSync(wfd);
  await stop(enclave);
  await stop(parent);
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { samples: lat.length, expected: total, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1] ?? NaN };
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

/** RSS of a Node process that does nothing, with the agent's V8 flags. */
function bareNodeRss(): number {
  const r = spawnSync(
    process.execPath,
    [
      '--max-semi-space-size=4',
      '-e',
      "setTimeout(() => console.log(/VmRSS:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]), 2000)",
    ],
    { encoding: 'utf8' },
  );
  return Number(r.stdout.trim()) * 1024;
}
const input = join(dir, 'input.log');
const bytes = generate(input, LINES);
console.log(`generated ${LINES} lines, ${mb(bytes)} MiB in ${input}`);
const rawMs = await rawBaseline(input, bytes);
console.log(`raw baseline (unix socket copy): ${(rawMs / 1000).toFixed(2)} s`);
const t = await throughput(input, bytes);
console.log(`qlog end to end: ${(t.ms / 1000).toFixed(2)} s, identical to the input: ${t.ok} (${t.got}/${bytes} bytes)`);
check(t.ok, `the parent's file is not the input (${t.got} of ${bytes} bytes, or different bytes)`);
const idleRss = await idle();
console.log(`idle enclave agent: ${(idleRss / 2 ** 20).toFixed(1)} MiB RSS`);
const l = await latency();
console.log(`latency at ${LAT_RATE}/s: p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms (${l.samples}/${l.expected} samples)`);
check(l.samples === l.expected, `latency run: ${l.samples} of ${l.expected} lines reached the parent's file`);
if (SMOKE) {
  rmSync(dir, { recursive: true, force: true });
  process.exit();
}

const ratio = t.ms / rawMs;
const row = (k: string, v: string, target = '') => `| ${k} | ${v} | ${target} |`;
const report = `# Benchmarks

Generated by \`npm run bench\` (test/bench/e2e.bench.ts) on ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}.

## End to end: tail -> vsock-forward -> unix socket -> vsock -> rotated-file (two processes)

${LINES.toLocaleString('en')} lines of ~120 bytes (${mb(bytes)} MiB), read from the head of an existing file.

| figure | value | target |
|---|---|---|
${row('raw baseline (file -> unix socket -> file, no processing)', `${(rawMs / 1000).toFixed(2)} s`)}
${row('qlog wall time (output checked: same bytes as the input, by SHA-256)', `${(t.ms / 1000).toFixed(2)} s${t.ok ? '' : ` (NOT IDENTICAL: ${t.got} of ${bytes} bytes)`}`)}
${row('ratio to raw baseline', `${ratio.toFixed(2)}×`, '≤ 4×')}
${row('throughput', `${Math.round(LINES / (t.ms / 1000)).toLocaleString('en')} lines/s, ${(bytes / 2 ** 20 / (t.ms / 1000)).toFixed(1)} MiB/s`)}
${row('CPU seconds, enclave agent', t.enclaveCpu.toFixed(2))}
${row('CPU seconds, parent agent', t.parentCpu.toFixed(2))}
${row('peak RSS, enclave agent', `${mb(t.enclavePeak)} MiB`, '≤ 80 MiB')}
${row('peak RSS, parent agent', `${mb(t.parentPeak)} MiB`)}
${row(`idle RSS, enclave agent (following an empty file, ${IDLE_MS / 1000} s after start)`, `${mb(idleRss)} MiB`, '≤ 50 MiB')}
${row(`RSS, enclave agent ${AFTER_MS / 1000} s after the run`, `${mb(t.afterRss)} MiB`)}
${row('for scale: RSS of a bare `node -e` on this machine', `${mb(bareNodeRss())} MiB`)}

## Latency at a steady ${LAT_RATE.toLocaleString('en')} lines/s

From append (timestamp written into the line) to the line being readable in the parent's file, polled every
millisecond, ${LAT_SECONDS} s run (${l.samples.toLocaleString('en')} of ${l.expected.toLocaleString('en')} lines seen).

| figure | value | target |
|---|---|---|
${row('p50', `${l.p50.toFixed(1)} ms`)}
${row('p99', `${l.p99.toFixed(1)} ms`, '≤ 50 ms')}
${row('max', `${l.max.toFixed(1)} ms`)}

Reproduce: \`npm ci && npm run bench -- e2e\` (\`LINES=200000\` for a quicker run).
`;
writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), report);
console.log(report);
rmSync(dir, { recursive: true, force: true });
