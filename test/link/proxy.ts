/**
 * Test-side stand-ins: a stream proxy whose connections can be cut on demand, and a
 * Firecracker-like hybrid vsock multiplexer (`CONNECT <port>\n` -> `OK <n>\n`).
 */
import net from 'node:net';
import { rmSync } from 'node:fs';

export interface Proxy {
  /** Destroy every open connection pair (both sides see a reset). */
  cut(): number;
  readonly connections: number;
  readonly accepted: number;
  close(): Promise<void>;
}

type Target = net.NetConnectOpts | ((port: number) => net.NetConnectOpts);

function startServer(listen: net.ListenOptions, onConn: (s: net.Socket, pairs: Set<net.Socket>) => void): Promise<{ server: net.Server; pairs: Set<net.Socket>; count: () => number }> {
  return new Promise((resolve, reject) => {
    const pairs = new Set<net.Socket>();
    let n = 0;
    if (listen.path) rmSync(listen.path, { force: true });
    const server = net.createServer((s) => {
      n++;
      pairs.add(s);
      s.on('close', () => pairs.delete(s));
      s.on('error', () => {});
      onConn(s, pairs);
    });
    server.once('error', reject);
    server.listen(listen, () => resolve({ server, pairs, count: () => n }));
  });
}

function pipeBoth(a: net.Socket, b: net.Socket, pairs: Set<net.Socket>): void {
  pairs.add(b);
  b.on('close', () => {
    pairs.delete(b);
    a.destroy();
  });
  a.on('close', () => b.destroy());
  b.on('error', () => {});
  a.pipe(b);
  b.pipe(a);
}

function proxyHandle(started: { server: net.Server; pairs: Set<net.Socket>; count: () => number }): Proxy {
  return {
    cut() {
      const n = started.pairs.size;
      for (const s of [...started.pairs]) s.destroy();
      return n;
    },
    get connections() {
      return started.pairs.size;
    },
    get accepted() {
      return started.count();
    },
    close() {
      for (const s of [...started.pairs]) s.destroy();
      return new Promise((r) => started.server.close(() => r()));
    },
  };
}

/** A plain proxy: every connection on `listen` is piped to `target`. */
export async function startProxy(listen: net.ListenOptions, target: net.NetConnectOpts): Promise<Proxy> {
  const started = await startServer(listen, (s, pairs) => {
    const up = net.connect(target);
    up.on('error', () => s.destroy());
    pipeBoth(s, up, pairs);
  });
  return proxyHandle(started);
}

/**
 * Stand-in for a VMM's hybrid vsock socket at `path`: reads `CONNECT <port>\n`, connects to the
 * "guest" listener `guest(port)`, answers `OK <n>\n` and pipes; closes if the guest port is dead.
 */
export async function startHybridMux(path: string, guest: Target): Promise<Proxy> {
  let hostPort = 1_073_741_824;
  const started = await startServer({ path }, (s, pairs) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      got = Buffer.concat([got, d]);
      const nl = got.indexOf(10);
      if (nl < 0) {
        if (got.length > 64) s.destroy();
        return;
      }
      s.off('data', onData);
      s.pause();
      const m = /^CONNECT (\d+)$/.exec(got.subarray(0, nl).toString());
      const rest = got.subarray(nl + 1);
      if (!m) return void s.destroy();
      const port = Number(m[1]);
      const up = net.connect(typeof guest === 'function' ? guest(port) : guest);
      up.once('error', () => s.destroy());
      up.once('connect', () => {
        s.write(`OK ${hostPort++}\n`);
        if (rest.length) up.write(rest);
        pipeBoth(s, up, pairs);
        s.resume();
      });
    };
    s.on('data', onData);
  });
  return proxyHandle(started);
}
