/**
 * parent -> http benchmark (issue 14): an enclave agent (tail -> vsock-forward) feeds a parent
 * agent (vsock -> http) over a unix socket; the parent posts to a local receiver that only
 * counts records and answers 200. Measures records/s through the parent and the parent's CPU
 * seconds per million records, for format json_lines and elasticsearch.
 * Run: npm run bench -- http   (env LINES=... to change the size)
 * QLOG_BENCH_SMOKE=1: 2,000 lines; checks only. Exits 1 when the receiver did not get every record.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/wait.js';
import { check, size } from './smoke.js';

const CLI = fileURLToPath(new URL('../../dist/core/cli/main.js', import.meta.url));
const LINES = Number(process.env.LINES ?? size(300_000, 2_000));
const dir = mkdtempSync(join(tmpdir(), 'qlog-bench-http-'));

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function spawnAgent(name: string, yaml: string): ChildProcess {
  const cfg = join(dir, `${name}.yaml`);
  writeFileSync(cfg, yaml);
  const err = openSync(join(dir, `${name}.stderr`), 'w');
  const p = spawn(CLI, ['run', cfg], { cwd: dir, stdio: ['ignore', 'ignore', err] });
  closeSync(err);
  return p;
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await done;
}

const input = join(dir, 'app.log');
const pad = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2).slice(0, 62);
let text = '';
for (let i = 1; i <= LINES; i++) text += `2026-11-23T12:00:00.000Z INFO service[42]: request ${String(i).padStart(8, '0')} ok ${pad}\n`;
writeFileSync(input, text);
text = '';

/** Counts records (NDJSON lines; bulk: half the lines) and answers as the target would, with nothing stored. */
let received = 0;
let perRecordLines = 1;
const server = createServer((req, res) => {
  let lines = 0;
  req.on('data', (d: Buffer) => {
    for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++;
  });
  req.on('end', () => {
    received += lines / perRecordLines;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(perRecordLines === 2 ? '{"took":0,"errors":false,"items":[]}' : '');
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

async function run(format: 'json_lines' | 'elasticsearch'): Promise<void> {
  received = 0;
  perRecordLines = format === 'elasticsearch' ? 2 : 1;
  const sock = join(dir, `${format}.sock`);
  const parent = spawnAgent(
    `parent-${format}`,
    `service: { log_level: warn, state_dir: ${join(dir, `p-${format}`)} }
pipeline:
  inputs: [{ name: vsock, listen: 'unix://${sock}' }]
  outputs: [{ name: http, url: '${url}', format: ${format}, workers: 2 }]
`,
  );
  await waitFor(() => existsSync(sock), { timeoutMs: 30_000, what: 'the parent to listen' });
  const cpu0 = cpuSeconds(parent.pid!);
  const t0 = performance.now();
  const enclave = spawnAgent(
    `enclave-${format}`,
    `service: { log_level: warn, state_dir: ${join(dir, `e-${format}`)} }
pipeline:
  inputs: [{ name: tail, tag: bench, path: ${input}, read_from_head: true }]
  outputs: [{ name: vsock-forward, connect: 'unix://${sock}' }]
`,
  );
  await waitFor(() => received >= LINES, { timeoutMs: 300_000, intervalMs: 20, what: () => `${LINES} records at the receiver (got ${received})` });
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(parent.pid!) - cpu0;
  console.log(
    `parent vsock -> http ${format.padEnd(13)} ${(LINES / s / 1000).toFixed(0).padStart(5)} k records/s  parent CPU ${((cpu / LINES) * 1e6).toFixed(2)} s per million records  (${LINES} records, ${s.toFixed(2)} s)`,
  );
  await stop(enclave);
  await stop(parent);
  check(received === LINES, `${format}: the receiver got ${received} records, want ${LINES}`);
}

try {
  await run('json_lines');
  await run('elasticsearch');
} finally {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
