/**
 * Fan-in throughput: many Forward senders (vsock-forward's link, in this process) into one parent
 * agent (`qlog run`: vsock input on a unix socket -> rotated-file), as a parent serving many
 * enclaves. Reports lines/s through the parent (each chunk acked only once written), the parent's
 * CPU per line, and checks the file and the per-peer series in /metrics.
 *
 * Run: node --import tsx test/bench/fanin.bench.ts   (env LINES=... total; QLOG_BENCH_SMOKE=1: 4,000 lines)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { encodeEntryParts, encodePackedForward } from '../../core/forward/index.js';
import { ForwardLink } from '../../plugins/vsock-forward/vsock-forward-link.js';
import { freePort, httpGet } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';
import { procStats, spawnAgent, stop } from './agents.js';
import { benchCounters, benchRecords } from './records.js';
import { check, size } from './smoke.js';

const LINES = Number(process.env.LINES ?? size(800_000, 4_000));
const LINE_BYTES = 120;
const CHUNK_LINES = 500;

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

async function runCase(dir: string, senders: number): Promise<string> {
  const name = `p${senders}`;
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
    return `| ${senders} | ${Math.round(total / secs).toLocaleString('en-US')} | ${((cpu / total) * 1e6).toFixed(2)} | ${((cpu / secs) * 100).toFixed(0)}% |`;
  } finally {
    await stop(parent);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qlog-fanin-bench-'));
  try {
    console.log(
      `fan-in: ${LINES.toLocaleString('en-US')} lines of ${LINE_BYTES} bytes from N senders (this process) into one parent agent (vsock unix -> rotated-file)`,
    );
    console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}\n`);
    console.log('| senders | lines/s (acked) | parent CPU µs/line | parent CPU |');
    console.log('|---|---|---|---|');
    for (const n of [1, 4, 16]) console.log(await runCase(dir, n));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
