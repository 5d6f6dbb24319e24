/**
 * `qlog demo` (npm start): both roles on this machine, as two real agents (child processes running
 * conf/demo-enclave.yaml and conf/demo-parent.yaml) linked by a Unix socket instead of vsock.
 * A generated service log is tailed and shipped with resource samples; the parent writes rotated
 * files. A status line each second comes from the agents' metrics endpoints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, type Command } from './command.js';
import { parse } from './args.js';
import { makeDir } from '../make-dir.js';

const usage = `Run a local demo of both roles: a generated service log in the enclave role, shipped over a
Unix socket (standing in for vsock) to the parent role, which writes rotated files.

Usage: qlog demo [--dir DIR] [--rate N] [--duration S]

      --dir <DIR>       Where the demo's files go [default: ./demo]
      --rate <N>        Service log lines per second [default: 3]
      --duration <S>    Stop by itself after S seconds [default: run until Ctrl-C]
`;

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));
const CONF = fileURLToPath(new URL('../../../conf/', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolvePort(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

type Metrics = { id: string; kind: string; name: string; counters: Record<string, number> }[];

async function metrics(port: number): Promise<Metrics | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/metrics`, { signal: AbortSignal.timeout(800) });
    return r.ok ? ((await r.json()) as Metrics) : undefined;
  } catch {
    return undefined;
  }
}

const sum = (m: Metrics | undefined, name: string, counter: string) =>
  (m ?? []).filter((x) => x.name === name).reduce((n, x) => n + (x.counters[counter] ?? 0), 0);

function lastNumber(file: string): number {
  if (!existsSync(file)) return 0;
  const m = /#(\d+)\s*$/.exec(readFileSync(file, 'utf8').trimEnd().split('\n').pop() ?? '');
  return m ? Number(m[1]) : 0;
}

const command: Command = {
  summary: 'Run both roles locally (npm start): a service log shipped and written to rotated files',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { dir: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' } }, usage);
    if (positionals.length) throw new UsageError('QLOG_ERR_USAGE/unexpected-arg', { arg: positionals[0]! }, usage);
    const rate = Number(values.rate ?? 3);
    const duration = values.duration === undefined ? 0 : Number(values.duration);
    if (!(rate > 0 && rate <= 10_000)) throw new UsageError('QLOG_ERR_USAGE/rate', { found: String(values.rate) });
    if (!(duration >= 0)) throw new UsageError('QLOG_ERR_USAGE/duration', { found: String(values.duration) });
    const dir = resolve(values.dir ?? 'demo');
    makeDir(join(dir, 'workspace'));
    // sockaddr_un paths are short (107 bytes): fall back to the temp dir for a deep checkout.
    let socket = join(dir, 'link.sock');
    if (Buffer.byteLength(socket) > 100) socket = join(tmpdir(), `qlog-demo-${process.pid}.sock`);
    const [enclavePort, parentPort] = [await freePort(), await freePort()];
    const serviceLog = join(dir, 'service.log');
    const show = (p: string) => {
      const r = relative(process.cwd(), p);
      return r === '' ? '.' : r.startsWith('..') ? p : r;
    };

    const env = (http: number) => ({ ...process.env, QLOG_DEMO_DIR: dir, QLOG_DEMO_SOCKET: socket, QLOG_DEMO_HTTP: `127.0.0.1:${http}` });
    const children: ChildProcess[] = [];
    const start = (conf: string, http: number) => {
      // Own process group: Ctrl-C reaches only the demo, which then stops each agent once (SIGTERM).
      const c = spawn(process.execPath, [CLI, 'run', join(CONF, conf)], { env: env(http), stdio: ['ignore', 'ignore', 'inherit'], detached: true });
      children.push(c);
      return c;
    };
    const killAll = () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
    };
    process.once('exit', killAll);

    let n = lastNumber(serviceLog);
    const startN = n;
    const writeLine = () => {
      const ts = new Date().toISOString().replace('T', ' ').slice(0, 19);
      appendFileSync(serviceLog, `${ts} - Hello, service. #${++n}\n`);
    };
    writeLine();
    const writer = setInterval(writeLine, 1000 / rate);

    process.stdout.write(`qlog demo: enclave role and parent role linked by unix://${socket}
  service log (enclave side):   ${show(serviceLog)}   (${rate} lines/s)
  files written (parent side):  ${show(join(dir, 'workspace', 'service.log'))}, ${show(join(dir, 'workspace', 'resource.log'))}
  agents' own logs:             ${show(join(dir, 'enclave.log'))}, ${show(join(dir, 'parent.log'))}
  configs:                      ${show(join(CONF, 'demo-enclave.yaml'))}, ${show(join(CONF, 'demo-parent.yaml'))}
  metrics:                      http://127.0.0.1:${enclavePort}/metrics (enclave), http://127.0.0.1:${parentPort}/metrics (parent)
Watch it with: tail -F ${show(join(dir, 'workspace', 'service.log'))}      Ctrl-C stops the demo.
`);
    const enclave = start('demo-enclave.yaml', enclavePort);
    const parent = start('demo-parent.yaml', parentPort);
    const t0 = Date.now();
    let lastAcked = 0;
    let stopping = false;
    let failed = '';

    const status = async () => {
      const [e, p] = await Promise.all([metrics(enclavePort), metrics(parentPort)]);
      const read = sum(e, 'tail', 'records_out');
      const acked = sum(e, 'vsock-forward', 'records_out');
      const inFiles = sum(p, 'rotated-file', 'lines_written');
      const samples = sum(e, 'resource', 'records_out');
      const secs = Math.round((Date.now() - t0) / 1000);
      const waiting = [e ? '' : 'enclave agent starting', p ? '' : 'parent agent starting'].filter(Boolean).join(', ');
      const line = `[${String(secs).padStart(3)}s] service log: ${n - startN} lines written, ${read} read | shipped and acked: ${acked} records (${acked - lastAcked}/s) | in files: ${inFiles} lines (${samples} resource samples)${waiting ? ` | ${waiting}...` : ''}`;
      lastAcked = acked;
      if (!stopping) process.stdout.write(`${line}\n`);
    };
    const ticker = setInterval(() => void status(), 1000);

    const exited = (c: ChildProcess) =>
      new Promise<number>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.exitCode ?? 1) : c.once('exit', (code) => r(code ?? 1))));
    const stop = async (why: string): Promise<number> => {
      if (stopping) return 0;
      stopping = true;
      clearInterval(ticker);
      clearInterval(writer);
      process.stdout.write(`\n${why}: stopping both agents (they deliver what is in flight first)...\n`);
      // Give the last lines written a moment to reach the files (else they wait for the next run).
      for (let i = 0; i < 20 && why !== 'error' && lastNumber(join(dir, 'workspace', 'service.log')) < n; i++) await new Promise((r) => setTimeout(r, 100));
      for (const c of [enclave, parent]) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGTERM');
      const timer = setTimeout(killAll, 15_000);
      const codes = await Promise.all([exited(enclave), exited(parent)]);
      clearTimeout(timer);
      process.stdout.write(
        `stopped (exit codes: enclave ${codes[0]}, parent ${codes[1]}). Files are in ${show(join(dir, 'workspace'))}; run npm start again to continue where it stopped.\n`,
      );
      return failed ? 1 : 0;
    };

    return new Promise<number>((done) => {
      const onSignal = (sig: string) => void stop(sig).then(done);
      process.once('SIGINT', () => onSignal('Ctrl-C'));
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      for (const [name, c] of [
        ['enclave', enclave],
        ['parent', parent],
      ] as const) {
        c.once('exit', (code, signal) => {
          if (stopping) return;
          failed = `${name} agent exited (${signal ?? code}); see ${show(join(dir, `${name}.log`))}`;
          process.stderr.write(`qlog demo: ${failed}\n`);
          void stop('error').then(() => done(1));
        });
      }
      if (duration > 0) setTimeout(() => void stop(`${duration} s elapsed`).then(done), duration * 1000);
    });
  },
};
export default command;
