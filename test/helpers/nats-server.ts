/**
 * A real nats-server with JetStream for tests (Debian's `nats-server`; .ci/run installs it):
 *
 *   if (!natsServerAvailable()) return t.skip('nats-server is not installed');
 *   const srv = await startNatsServer(t);                  // free port, JetStream in a temp dir
 *   await srv.addStream({ name: 'LOGS', subjects: ['logs.>'] });
 *   const msgs = await srv.read('LOGS');                   // every stored message, in order
 *   await srv.restart();                                   // same port and store (SIGKILL + start)
 *   await startNatsServer(t, { tls: { server: c.server, ca: c.ca, verify: c.client } });  // tls://, mutual TLS
 *
 * The server is killed when the owner (test) ends. The NATS client is the one qlog uses.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import { freePort } from './net.js';
import { type HasAfter, tempDir, writeConfig } from './tmp.js';
import { waitFor } from './wait.js';

const require = createRequire(import.meta.url);
const nats = (): typeof import('@nats-io/transport-node') => require('@nats-io/transport-node');
const jetstream = (): typeof import('@nats-io/jetstream') => require('@nats-io/jetstream');

let binary: string | undefined | false;
/** The nats-server command: on PATH, or where Debian puts it (/usr/sbin, often not on a user's PATH). */
function natsServerBinary(): string | undefined {
  if (binary === undefined) {
    binary = ['nats-server', '/usr/sbin/nats-server'].find((b) => spawnSync(b, ['--version'], { stdio: 'ignore' }).status === 0) ?? false;
  }
  return binary || undefined;
}

/** nats-server can be run. */
export function natsServerAvailable(): boolean {
  return natsServerBinary() !== undefined;
}

export interface StoredMessage {
  seq: number;
  subject: string;
  data: string;
  /** The Nats-Msg-Id header. */
  id: string | undefined;
}

export interface NatsServer {
  url: string;
  port: number;
  /** The JetStream store directory. */
  dir: string;
  /** Process id of the running server. */
  pid(): number;
  /** Stop the server with `signal` (default SIGKILL) and wait for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port and store (after kill). */
  start(): Promise<void>;
  /** kill() then start(). */
  restart(): Promise<void>;
  /** A client connection (closed when the owner ends). */
  connect(opts?: Partial<ConnectionOptions>): Promise<NatsConnection>;
  addStream(cfg: { name: string; subjects: string[] } & Record<string, unknown>): Promise<void>;
  updateStream(name: string, cfg: Record<string, unknown>): Promise<void>;
  /** Every message stored in `stream`, by sequence. */
  read(stream: string): Promise<StoredMessage[]>;
  /** How many messages `stream` holds. */
  count(stream: string): Promise<number>;
}

export interface NatsServerOptions {
  /** Extra nats-server arguments, e.g. ['--user', 'u', '--pass', 'p']. */
  args?: string[];
  /** nats-server configuration file text (e.g. 'max_payload: 4096'), passed with -c. */
  conf?: string;
  /** Client options the helper's own connections use (credentials). */
  client?: Partial<ConnectionOptions>;
  /**
   * TLS (--tls): the server's certificate and the CA that signed it (the helper's connections
   * trust it); with `verify`, clients must present a certificate signed by `ca` (--tlsverify), and
   * the helper's connections present this one.
   */
  tls?: { server: { crt: string; key: string }; ca: string; verify?: { crt: string; key: string } };
}

function tlsArgs(t: NonNullable<NatsServerOptions['tls']>): string[] {
  const files = ['--tlscert', t.server.crt, '--tlskey', t.server.key];
  return t.verify ? ['--tlsverify', ...files, '--tlscacert', t.ca] : ['--tls', ...files];
}

function tlsClient(t: NonNullable<NatsServerOptions['tls']>): Partial<ConnectionOptions> {
  const pem = (f: string) => readFileSync(f, 'utf8');
  return { tls: { ca: pem(t.ca), ...(t.verify && { cert: pem(t.verify.crt), key: pem(t.verify.key) }) } };
}

export async function startNatsServer(owner: HasAfter, opts: NatsServerOptions = {}): Promise<NatsServer> {
  const dir = tempDir(owner, 'qlog-nats-');
  const port = await freePort();
  const url = `${opts.tls ? 'tls' : 'nats'}://127.0.0.1:${port}`;
  const args = [...(opts.tls ? tlsArgs(opts.tls) : []), ...(opts.args ?? [])];
  const client = { ...(opts.tls && tlsClient(opts.tls)), ...opts.client };
  const confArgs = opts.conf === undefined ? [] : ['-c', writeConfig(dir, 'nats-server.conf', opts.conf)];
  let child: ChildProcess | undefined;
  let log = '';
  const conns: NatsConnection[] = [];
  let admin: NatsConnection | undefined;

  const start = async (): Promise<void> => {
    let ready = false;
    log = '';
    const c = spawn(natsServerBinary() ?? 'nats-server', ['-js', '-sd', dir, '-p', String(port), '-a', '127.0.0.1', ...confArgs, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (d: string) => {
      log += d;
      if (log.includes('Server is ready')) ready = true;
    });
    child = c;
    await waitFor(() => ready || c.exitCode !== null, { timeoutMs: 15_000, what: () => `nats-server to be ready:\n${log}` });
    if (!ready) throw new Error(`nats-server exited (${c.exitCode}):\n${log}`);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    // The helper's own connection starts afresh after a restart (no request stuck in a reconnect).
    const a = admin;
    admin = undefined;
    await a?.close().catch(() => undefined);
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  };
  const connect = async (o: Partial<ConnectionOptions> = {}): Promise<NatsConnection> => {
    const nc = await nats().connect({ servers: url, ...client, ...o });
    conns.push(nc);
    return nc;
  };
  const manager = async () => {
    if (!admin || admin.isClosed()) admin = await connect({ maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    return jetstream().jetstreamManager(admin);
  };
  owner.after(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    await kill();
  });
  await start();
  return {
    url,
    port,
    dir,
    pid: () => child?.pid ?? 0,
    kill,
    start,
    async restart() {
      await kill();
      await start();
    },
    connect,
    async addStream(cfg) {
      await (await manager()).streams.add(cfg as never);
    },
    async updateStream(name, cfg) {
      await (await manager()).streams.update(name, cfg as never);
    },
    async count(stream) {
      return (await (await manager()).streams.info(stream)).state.messages;
    },
    async read(stream) {
      const jsm = await manager();
      const info = await jsm.streams.info(stream);
      const out: StoredMessage[] = [];
      const last = info.state.last_seq;
      if (info.state.messages === 0) return out;
      const c = await jetstream().jetstream(admin!).consumers.get(stream);
      while (out.length < info.state.messages) {
        const batch = await c.fetch({ max_messages: 10_000, expires: 2000 });
        let got = 0;
        for await (const m of batch) {
          got++;
          out.push({ seq: m.seq, subject: m.subject, data: m.string(), id: m.headers?.get('Nats-Msg-Id') || undefined });
          if (m.seq >= last) break;
        }
        if (got === 0 || out.at(-1)!.seq >= last) break;
      }
      return out;
    },
  };
}
