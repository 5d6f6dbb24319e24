/**
 * Link throughput over a unix socket, and over tls:// (mutual TLS on 127.0.0.1, certificates made
 * with the openssl CLI): the vsock-forward side (encode PackedForward, window, acks) in this
 * process, the vsock input side (frame split, decode, ack) in a child process, as in production
 * (two agents). Reports lines/s and MB/s of log text (and wire MB/s).
 *
 * Run: node --import tsx test/bench/link.bench.ts      (env LINES=..., LINE_BYTES=...; QLOG_BENCH_SMOKE=1: 2,000 lines)
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import pino from 'pino';
import { encodeEntryParts, encodePackedForward, ReceiverSession } from '../../core/forward/index.js';
import { listen, TLS_DEFAULTS, type TlsOptions } from '../../core/transport/index.js';
import { readTlsFiles } from '../../core/transport/tls-files.js';
import type { LogRecord } from '../../core/record.js';
import { ForwardLink } from '../../plugins/vsock-forward/vsock-forward-link.js';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { size } from './smoke.js';
import { benchCounters, benchRecords } from './records.js';

const LINES = Number(process.env.LINES ?? size(1_000_000, 2_000));
const LINE_BYTES = Number(process.env.LINE_BYTES ?? 120);

// ---------------------------------------------------------------- receiver (child process)
async function receiver(uri: string, tlsJson: string | undefined): Promise<void> {
  let records = 0;
  let bytes = 0;
  const tls = tlsJson ? readTlsFiles(JSON.parse(tlsJson) as TlsOptions, 'listen', process.cwd()) : undefined;
  const listener = await listen(
    uri,
    (stream, peer) => {
      new ReceiverSession(stream, peer, {
        selfHostname: 'bench-parent',
        maxFrameSize: 16 << 20,
        onEvents: (ev, s) => {
          records += ev.records.length;
          for (const r of ev.records) bytes += typeof r.body === 'string' ? r.body.length : 0;
          if (ev.ackValue !== undefined) s.ack(ev.ackValue);
        },
        onClose: () => process.send!({ records, bytes }),
      });
    },
    { tls },
  );
  process.send!({ ready: listener.uri });
}

// ---------------------------------------------------------------- sender (this process)
const counters = benchCounters();

const makeChunk = (from: number, n: number): LogRecord[] => benchRecords(from, n, LINE_BYTES);

interface Case {
  name: string;
  transport: 'unix' | 'tls';
  chunkLines: number;
  inflight: number;
  gzip: boolean;
}

async function runCase(c: Case, dir: string, certs: TestCerts): Promise<string> {
  // tls://: mutual TLS, as a parent that requires its enclaves' certificates would run it.
  const receiverTls: TlsOptions = { ...TLS_DEFAULTS, ca_file: certs.ca, crt_file: certs.server.crt, key_file: certs.server.key };
  const senderTls: TlsOptions = { ...TLS_DEFAULTS, ca_file: certs.ca, crt_file: certs.client.crt, key_file: certs.client.key };
  const at = c.transport === 'tls' ? ['tls://127.0.0.1:0', JSON.stringify(receiverTls)] : [`unix://${join(dir, `${c.name.replace(/\W+/g, '-')}.sock`)}`];
  const child = fork(fileURLToPath(import.meta.url), ['--receiver', ...at], { execArgv: ['--import', 'tsx'] });
  const uri = await new Promise<string>((r) => child.once('message', (m) => r((m as { ready: string }).ready)));
  const link = new ForwardLink({
    connect: uri,
    listen: '',
    tls: c.transport === 'tls' ? senderTls : undefined,
    selfHostname: 'bench-enclave',
    requireAck: true,
    maxInflightBytes: 64 << 20,
    sendBuffer: 1 << 20, // vsock-forward's default max_frame_size
    maxInflightChunks: c.inflight,
    connectTimeoutMs: 5000,
    reconnectBaseMs: 50,
    reconnectMaxMs: 500,
    heartbeatMs: 0,
    ackTimeoutMs: 60_000,
    log: pino({ level: 'silent' }),
    counters,
    name: 'bench',
  });
  await link.start();
  const gz = promisify(gzip);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let wire = 0;
  const pending: Promise<void>[] = [];
  for (let sent = 0; sent < LINES; sent += c.chunkLines) {
    const n = Math.min(c.chunkLines, LINES - sent);
    const { parts } = encodeEntryParts(makeChunk(sent + 1, n), 1 << 20);
    for (let i = 0; i < parts.length; i++) {
      const id = `c${sent}.${i}`;
      const payload = c.gzip ? await gz(parts[i]!.entries) : parts[i]!.entries;
      const frame = encodePackedForward('service', payload, { chunk: id, size: parts[i]!.count, gzip: c.gzip });
      wire += frame.length;
      pending.push(link.send(id, frame));
    }
    // Like the engine with `workers`: keep a bounded number of flushes outstanding.
    if (pending.length >= c.inflight * 2) await Promise.all(pending.splice(0, c.inflight));
  }
  await Promise.all(pending);
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await link.stop();
  const got = await new Promise<{ records: number; bytes: number }>((r) => child.once('message', (m) => r(m as { records: number; bytes: number })));
  child.kill();
  if (got.records !== LINES) throw new Error(`${c.name}: receiver got ${got.records} of ${LINES} lines`);
  const mb = got.bytes / 1e6;
  return `| ${c.name} | ${c.transport} | ${c.chunkLines} | ${c.inflight} | ${Math.round(LINES / secs).toLocaleString('en-US')} | ${(mb / secs).toFixed(1)} | ${(wire / 1e6 / secs).toFixed(1)} | ${(((cpu.user + cpu.system) / 1e3 / LINES) * 1e3).toFixed(2)} |`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qlog-link-bench-'));
  try {
    const cases: Case[] = [
      { name: 'PackedForward', transport: 'unix', chunkLines: 1000, inflight: 8, gzip: false },
      { name: 'PackedForward, big chunks', transport: 'unix', chunkLines: 8000, inflight: 8, gzip: false },
      { name: 'PackedForward, one chunk in flight', transport: 'unix', chunkLines: 1000, inflight: 1, gzip: false },
      { name: 'CompressedPackedForward (gzip)', transport: 'unix', chunkLines: 1000, inflight: 8, gzip: true },
      { name: 'PackedForward', transport: 'tls', chunkLines: 1000, inflight: 8, gzip: false },
      { name: 'PackedForward, big chunks', transport: 'tls', chunkLines: 8000, inflight: 8, gzip: false },
      { name: 'CompressedPackedForward (gzip)', transport: 'tls', chunkLines: 1000, inflight: 8, gzip: true },
    ];
    const certs = makeCerts(dir);
    console.log(
      `link throughput: ${LINES.toLocaleString('en-US')} lines of ${LINE_BYTES} bytes, sender and receiver in separate processes; tls = mutual TLS over 127.0.0.1`,
    );
    console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}\n`);
    console.log('| case | transport | lines/chunk | chunks in flight | lines/s | MB/s (text) | MB/s (wire) | sender CPU µs/line |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const c of cases) console.log(await runCase(c, dir, certs));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--receiver') void receiver(process.argv[3]!, process.argv[4]);
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
