/**
 * Relay benchmark (issue 14): the parent publishing to NATS JetStream,
 *   enclave: tail -> vsock-forward --unix socket--> parent: vsock -> nats -> nats-server (JetStream, file storage)
 * on a file of 500,000 numbered lines of 100 bytes. Figures: records/s until the stream holds
 * every line, and the parent's CPU per million records (the enclave's and nats-server's for scale).
 * Checks that the stream holds every line exactly once (read back with the client).
 * Run: npm run bench -- nats   (env LINES=...). QLOG_BENCH_SMOKE=1: 3,000 lines, checks only.
 * Without nats-server (apt-get install nats-server) it says so and exits 0.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLines } from '../helpers/checker.js';
import { numberedText } from '../helpers/lines.js';
import { natsServerAvailable, startNatsServer } from '../helpers/nats-server.js';
import { waitFor } from '../helpers/wait.js';
import { procStats, spawnAgent, stop } from './agents.js';
import { check, size } from './smoke.js';

if (!natsServerAvailable()) {
  console.log('nats.bench: skipped, nats-server is not installed (apt-get install nats-server)');
  process.exit(0);
}

const LINES = Number(process.env.LINES ?? size(500_000, 3_000));
const dir = mkdtempSync(join(tmpdir(), 'qlog-bench-nats-'));
const cleanups: (() => void | Promise<void>)[] = [];
const owner = { after: (f: () => void | Promise<void>) => cleanups.push(f) };

const srv = await startNatsServer(owner);
await srv.addStream({ name: 'LOGS', subjects: ['logs.>'] });
const serverPid = srv.pid();

const input = join(dir, 'input.log');
const CHUNK = 100_000;
writeFileSync(input, '');
for (let i = 1; i <= LINES; i += CHUNK) writeFileSync(input, numberedText('L', i, Math.min(LINES + 1, i + CHUNK)), { flag: 'a' });

const sock = join(dir, 'link.sock');
const parent = spawnAgent(
  dir,
  'parent',
  `service: { log_level: warn, state_dir: ${join(dir, 'pstate')} }
pipeline:
  inputs:
    - { name: vsock, listen: 'unix://${sock}' }
  outputs:
    - { name: nats, match: '*', servers: ['${srv.url}'], stream: LOGS, subject: 'logs.\${tag}' }
`,
);
await waitFor(() => existsSync(sock), { timeoutMs: 30_000, what: `the parent to listen on ${sock}` });
const server0 = procStats(serverPid).cpu;
const t0 = performance.now();
const enclave = spawnAgent(
  dir,
  'enclave',
  `service: { log_level: warn, state_dir: ${join(dir, 'estate')} }
pipeline:
  inputs:
    - { name: tail, tag: bench, path: ${input}, read_from_head: true }
  outputs:
    - { name: vsock-forward, match: '*', connect: 'unix://${sock}' }
`,
);
let stored = 0;
await waitFor(async () => (stored = await srv.count('LOGS')) >= LINES, { timeoutMs: 600_000, intervalMs: 50, what: `${LINES} messages in the stream` }).catch(
  () => undefined,
);
const ms = performance.now() - t0;
const p = procStats(parent.pid!);
const e = procStats(enclave.pid!);
const s = procStats(serverPid).cpu - server0;
await stop(enclave);
await stop(parent);

const r = checkLines(
  (await srv.read('LOGS')).map((m) => m.data),
  'L',
  1,
  LINES,
);
const perM = (cpu: number) => ((cpu / LINES) * 1e6).toFixed(1);
console.log(`parent -> nats: ${LINES} lines (100 bytes) in ${(ms / 1000).toFixed(2)} s: ${Math.round(LINES / (ms / 1000)).toLocaleString('en')} records/s`);
console.log(
  `CPU seconds per million records: parent ${perM(p.cpu)}, enclave ${perM(e.cpu)}, nats-server ${perM(s)}; parent peak RSS ${(p.hwm / 2 ** 20).toFixed(1)} MiB`,
);
console.log(`stream: ${stored} messages; lost ${r.lost}, duplicated ${r.duplicated}, altered ${r.altered}`);
check(r.lost === 0 && r.duplicated === 0 && r.altered === 0 && r.foreign.length === 0, `the stream is not the input: ${JSON.stringify(r.firstProblem)}`);

for (const f of cleanups.reverse()) await f();
rmSync(dir, { recursive: true, force: true });
