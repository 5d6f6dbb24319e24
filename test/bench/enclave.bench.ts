/**
 * Enclave agent benchmark (issue 16): the memory and latency of the enclave side of
 *   enclave: tail [+ resource] -> vsock-forward --unix socket--> parent: vsock -> rotated-file
 * - idle: RSS IDLE_MS after start, following an empty file, with tail alone and with tail and a
 *   resource input (target <= 50 MiB);
 * - stall: the service logs STALL_RATE lines/s; after BASE_MS the parent is frozen (SIGSTOP) for
 *   STALL_MS, then resumed. Peak RSS of the enclave agent while streaming, while the parent is
 *   stopped and during the catch-up (target <= 80 MiB), and the time to catch up;
 * - latency: p50/p99/max from append to the line being in the parent's file at 10,000 lines/s
 *   (target p99 <= 50 ms) and at 100,000 lines/s, with the enclave agent's CPU seconds and peak RSS.
 * Every line written must arrive (checked). Env: LAT_SECONDS, ONLY=idle,stall,latency (a subset).
 * Run: npm run bench -- enclave. QLOG_BENCH_SMOKE=1: short phases, checks only.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { procStats, spawnAgent, stop } from './agents.js';
import { type Arrivals, followArrivals, rateWriter } from './latency.js';
import { check, size } from './smoke.js';

const IDLE_MS = size(20_000, 500);
const STALL_RATE = size(5_000, 1_000);
const BASE_MS = size(10_000, 500);
const STALL_MS = size(15_000, 1_000);
const AFTER_MS = size(10_000, 500);
const LAT_SECONDS = Number(process.env.LAT_SECONDS ?? size(10, 0.5));
const LAT_RATES = [10_000, 100_000];
const ONLY = process.env.ONLY?.split(',');
const dir = mkdtempSync(join(tmpdir(), 'qlog-bench-enclave-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

const parentYaml = (name: string) => `service:
  log_level: warn
  state_dir: ${join(dir, `${name}-pstate`)}
pipeline:
  inputs:
    - name: vsock
      listen: unix://${join(dir, `${name}.sock`)}
  outputs:
    - name: rotated-file
      match: '*'
      workspace: ${join(dir, `${name}-ws`)}
      file: out.log
      rotate_size: 4GB
      rotate_num: 2
`;
const enclaveYaml = (name: string, log: string, resource: boolean) => `service:
  log_level: warn
  state_dir: ${join(dir, `${name}-estate`)}
pipeline:
  inputs:
    - name: tail
      tag: app
      path: ${log}
      read_from_head: true
${
  resource
    ? `    - name: resource
      tag: res
      interval: 5s
      processes: [self]
`
    : ''
}  outputs:
    - name: vsock-forward
      match: '*'
      connect: unix://${join(dir, `${name}.sock`)}
`;

/** A parent and an enclave agent; the enclave follows <name>.log (created empty). */
async function pair(name: string, resource = false) {
  const log = join(dir, `${name}.log`);
  writeFileSync(log, '');
  const parent = spawnAgent(dir, `${name}-parent`, parentYaml(name));
  const sock = join(dir, `${name}.sock`);
  await waitFor(() => existsSync(sock), { timeoutMs: 30_000, what: `the parent agent to listen on ${sock}` });
  const enclave = spawnAgent(dir, `${name}-enclave`, enclaveYaml(name, log, resource));
  return { log, out: join(dir, `${name}-ws`, 'out.log'), parent, enclave };
}

/** Peak RSS of `pid`, sampled every 20 ms, until `until()` or `ms` passed. */
async function peakRss(pid: number, until: () => boolean, ms: number): Promise<number> {
  let peak = 0;
  const end = Date.now() + ms;
  while (!until() && Date.now() < end) {
    peak = Math.max(peak, procStats(pid).rss);
    await sleep(20);
  }
  return Math.max(peak, procStats(pid).rss);
}

async function idle(name: string, resource: boolean): Promise<number> {
  const p = await pair(name, resource);
  // The figure is the RSS after IDLE_MS of doing nothing: this sleep is the measurement.
  await sleep(IDLE_MS);
  const rss = procStats(p.enclave.pid!).rss;
  await stop(p.enclave);
  await stop(p.parent);
  return rss;
}

/** Start streaming at `rate` once a first line went through both agents (start-up is not measured). */
async function streaming(name: string, rate: number, total: number) {
  const p = await pair(name);
  const arrivals = followArrivals(p.out);
  writeFileSync(p.log, 'warm-up\n');
  await waitFor(() => arrivals.poll().other > 0, { timeoutMs: 30_000, what: "the warm-up line in the parent's file" });
  const writer = rateWriter(p.log, rate, total);
  return { ...p, arrivals, writer };
}

/** Wait until every line written arrived (or `ms` passed), polling the parent's file. */
async function drained(a: Arrivals, total: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (a.poll().lines < total && Date.now() < end) await sleep(1);
}

async function stall() {
  const total = Math.round((STALL_RATE * (BASE_MS + STALL_MS + AFTER_MS)) / 1000);
  const s = await streaming('stall', STALL_RATE, total);
  const pid = s.enclave.pid!;
  // Keep reading the parent's file while sampling (no end condition).
  const poll = () => {
    s.arrivals.poll();
    return false;
  };
  const streamingPeak = await peakRss(pid, poll, BASE_MS);
  s.parent.kill('SIGSTOP');
  const stalledPeak = await peakRss(pid, () => false, STALL_MS);
  s.parent.kill('SIGCONT');
  const t0 = performance.now();
  const behind = s.writer.written() - s.arrivals.poll().lines;
  const caughtUp = () => s.arrivals.poll().lines >= s.writer.written() - STALL_RATE / 100;
  const catchUpPeak = await peakRss(pid, caughtUp, 120_000);
  const catchUpMs = performance.now() - t0;
  const afterPeak = Math.max(catchUpPeak, await peakRss(pid, poll, AFTER_MS));
  await s.writer.done;
  await drained(s.arrivals, total, 60_000);
  const got = s.arrivals.poll().lines;
  const e = procStats(pid);
  await stop(s.enclave);
  await stop(s.parent);
  return { total, got, behind, streamingPeak, stalledPeak, catchUpPeak: afterPeak, catchUpMs, hwm: e.hwm, cpu: e.cpu };
}

async function latency(rate: number) {
  const total = Math.round(rate * LAT_SECONDS);
  const s = await streaming(`lat${rate}`, rate, total);
  const cpu0 = procStats(s.enclave.pid!).cpu;
  // Polled every millisecond from the first line written: a latency is taken when its line is read.
  await drained(s.arrivals, total, LAT_SECONDS * 1000 + 60_000);
  const e = procStats(s.enclave.pid!);
  await stop(s.enclave);
  await stop(s.parent);
  const a = s.arrivals.poll();
  const lat = a.latencies.sort((x, y) => x - y);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? Number.NaN;
  return { rate, total, got: a.lines, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1] ?? Number.NaN, cpu: e.cpu - cpu0, hwm: e.hwm };
}

const want = (phase: string) => !ONLY || ONLY.includes(phase);
if (want('idle')) {
  const tailOnly = await idle('idle-tail', false);
  const withResource = await idle('idle-res', true);
  console.log(`idle enclave agent (${IDLE_MS / 1000} s after start): tail ${mb(tailOnly)}, tail + resource ${mb(withResource)} RSS (target <= 50 MiB)`);
}
if (want('stall')) {
  const r = await stall();
  console.log(
    `stall at ${STALL_RATE} lines/s, parent stopped ${STALL_MS / 1000} s: enclave peak RSS streaming ${mb(r.streamingPeak)}, parent stopped ${mb(r.stalledPeak)}, catch-up ${mb(r.catchUpPeak)} (VmHWM ${mb(r.hwm)}, target <= 80 MiB); ${r.behind} lines behind, caught up in ${(r.catchUpMs / 1000).toFixed(2)} s; enclave CPU ${r.cpu.toFixed(2)} s; ${r.got}/${r.total} lines arrived`,
  );
  check(r.got === r.total, `stall run: ${r.got} of ${r.total} lines reached the parent's file`);
}
if (want('latency')) {
  for (const rate of LAT_RATES) {
    const l = await latency(rate);
    console.log(
      `latency at ${rate} lines/s for ${LAT_SECONDS} s: p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms; enclave CPU ${l.cpu.toFixed(2)} s (${((l.cpu * 1e6) / l.total).toFixed(2)} s per million lines), VmHWM ${mb(l.hwm)}; ${l.got}/${l.total} lines arrived`,
    );
    check(l.got === l.total, `latency run at ${rate}/s: ${l.got} of ${l.total} lines reached the parent's file`);
  }
}
rmSync(dir, { recursive: true, force: true });
