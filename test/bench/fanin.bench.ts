/**
 * Fan-in throughput: many Forward senders (vsock-forward's link, in this process) into one parent
 * agent (`qlog run`: vsock input on a unix socket -> rotated-file), as a parent serving many
 * enclaves. Reports lines/s through the parent (each chunk acked only once written), the parent's
 * CPU seconds per million lines and peak RSS, and checks the file and the per-peer series in /metrics.
 * Repeated RUNS times (3), reported as median [min–max]; writes its section of docs/benchmarks.md.
 *
 * Run: npm run bench -- fanin   (env LINES=... total, RUNS=...; QLOG_BENCH_SMOKE=1: 4,000 lines, one run)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { encodeEntryParts, encodePackedForward } from '../../core/forward/index.js';
import { ForwardLink } from '../../plugins/vsock-forward/vsock-forward-link.js';
import { freePort, httpGet } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';
import { procStats, spawnAgent, stop } from './agents.js';
import { benchCounters, benchRecords } from './records.js';
import { mib, provenance, RUNS, spread, writeSection } from './report.js';
import { check, size } from './smoke.js';

const LINES = Number(process.env.LINES ?? size(800_000, 4_000));
const LINE_BYTES = 120;
const CHUNK_LINES = 500;
const SENDERS = [1, 4, 16];

function parentYaml(dir: string, name: string, http: number): string {
  return `
service:
  log_level: warn
  state_dir: ${join(dir, `state-${name}`)}
  http_listen: 127.0.0.1:${http}
pipeline:
  inputs:
    - name: vsock
      listen: unix://${join(dir, `${name}.sock`)}
      max_connections: 128
  outputs:
    - name: rotated-file
      match: '*'
      workspace: ${join(dir, `out-${name}`)}
      file: app.log
      rotate_size: 4GB
`;
}

/** One sender: its share of the lines in chunks, at most 4 in flight (vsock-forward's workers). */
async function send(path: string, index: number, lines: number): Promise<void> {
  const link = new ForwardLink({
    connect: `unix://${path}`,
    listen: '',
    selfHostname: `enclave-${index}`,
    requireAck: true,
    maxInflightBytes: 64 << 20,
    sendBuffer: 1 << 20, // vsock-forward's default max_frame_size
    maxInflightChunks: 4,
    connectTimeoutMs: 5000,
    reconnectBaseMs: 50,
    reconnectMaxMs: 500,
    heartbeatMs: 0,
    ackTimeoutMs: 120_000,
    log: pino({ level: 'silent' }),
    counters: benchCounters(),
    name: `bench-${index}`,
  });
  await link.start();
  const pending: Promise<void>[] = [];
  for (let sent = 0; sent < lines; sent += CHUNK_LINES) {
    const { parts } = encodeEntryParts(benchRecords(sent + 1, Math.min(CHUNK_LINES, lines - sent), LINE_BYTES, `65024:2162803:9f32d36a40ea:${index}`), 1 << 20);
    for (let i = 0; i < parts.length; i++) {
      const id = `s${index}c${sent}.${i}`;
      pending.push(link.send(id, encodePackedForward('service', parts[i]!.entries, { chunk: id, size: parts[i]!.count })));
    }
    if (pending.length >= 8) await Promise.all(pending.splice(0, 4));
  }
  await Promise.all(pending);
  await link.stop();
}

interface Result {
  linesPerS: number;
  cpuPerM: number;
  busy: number;
  hwm: number;
}

let runNo = 0;
async function runCase(dir: string, senders: number): Promise<Result> {
  const name = `p${senders}-${++runNo}`;
  const http = await freePort();
  const parent = spawnAgent(dir, name, parentYaml(dir, name, http));
  try {
    await waitFor(async () => (await httpGet(`http://127.0.0.1:${http}/metrics`).catch(() => undefined))?.status === 200, {
      timeoutMs: 20_000,
      what: 'parent up',
    });
    const each = Math.floor(LINES / senders);
    const cpu0 = procStats(parent.pid!).cpu;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: senders }, (_, i) => send(join(dir, `${name}.sock`), i, each)));
    const secs = (performance.now() - t0) / 1000;
    const cpu = procStats(parent.pid!).cpu - cpu0;
    const metrics = (await httpGet(`http://127.0.0.1:${http}/metrics`)).body;
    const perPeer = [...metrics.matchAll(/^qlog_input_peer_records_in\{[^}]*\} (\d+)$/gm)].map((m) => Number(m[1]));
    check(
      perPeer.length === senders && perPeer.every((n) => n === each),
      `${senders} senders: per-peer records_in ${JSON.stringify(perPeer)}, expected ${each} each`,
    );
    const written = readFileSync(join(dir, `out-${name}`, 'app.log'), 'utf8').split('\n').length - 1;
    check(written === each * senders, `${senders} senders: ${written} lines written, expected ${each * senders}`);
    const total = each * senders;
    return { linesPerS: total / secs, cpuPerM: (cpu / total) * 1e6, busy: (cpu / secs) * 100, hwm: procStats(parent.pid!).hwm };
  } finally {
    await stop(parent);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qlog-fanin-bench-'));
  try {
    console.log(`fan-in: ${LINES.toLocaleString('en-US')} lines of ${LINE_BYTES} bytes from N senders (this process) into one parent agent; ${RUNS} run(s)`);
    const results = new Map<number, Result[]>(SENDERS.map((n) => [n, []]));
    for (let r = 0; r < RUNS; r++) {
      for (const n of SENDERS) {
        const x = await runCase(dir, n);
        results.get(n)!.push(x);
        console.log(
          `run ${r + 1}, ${n} senders: ${Math.round(x.linesPerS).toLocaleString('en-US')} lines/s, parent CPU ${x.cpuPerM.toFixed(2)} s per 1M lines (${x.busy.toFixed(0)}% busy), peak RSS ${mib(x.hwm).toFixed(1)} MiB`,
        );
      }
    }
    const row = (n: number) => {
      const xs = results.get(n)!;
      return `| ${n} | ${spread(
        xs.map((x) => x.linesPerS / 1000),
        0,
        'k',
      )} | ${spread(xs.map((x) => x.cpuPerM))} | ${spread(
        xs.map((x) => x.busy),
        0,
        '%',
      )} | ${spread(
        xs.map((x) => mib(x.hwm)),
        1,
      )} |`;
    };
    writeSection(
      'scale-senders',
      `## Scale: enclave senders into one parent

${provenance('npm run bench -- fanin')}

N Forward senders (vsock-forward's link, in the bench process, each an enclave with its own
hostname and at most 4 chunks of 500 lines in flight, acks required) into one parent agent (vsock on
a unix socket -> rotated-file); ${LINES.toLocaleString('en-US')} lines of ${LINE_BYTES} bytes in all, split evenly. Checked:
the file's line count and each peer's \`qlog_input_peer_records_in\`. The senders share the machine's
cores with the parent, so lines/s is a floor; the parent's CPU per line is the cost.

| senders | lines/s (acked) | parent CPU s / 1M lines | parent CPU busy | parent peak RSS MiB |
|---|---|---|---|---|
${SENDERS.map(row).join('\n')}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
