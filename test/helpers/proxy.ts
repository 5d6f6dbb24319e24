/**
 * Test-side stand-ins: a stream proxy whose connections can be cut on demand ("the link cut
 * under the agents"), and a Firecracker-like hybrid vsock multiplexer (`CONNECT <port>\n` -> `OK <n>\n`).
 *
 *   const proxy = await startProxy({ path: linkSock }, { path: parentSock });
 *   await waitFor(() => proxy.connections > 0, { what: 'a connection' });
 *   proxy.cut();
 */
import net from 'node:net';
import { rmSync } from 'node:fs';

export interface StreamProxy {
  /** Destroy every open connection, both ends (each side sees its socket closed); returns how many client connections were open. */
  cut(): number;
  /** How many times cut() was called. */
  readonly cuts: number;
  /** Client connections open now. */
  readonly connections: number;
  /** Client connections accepted since the start. */
  readonly accepted: number;
  /** Cut everything and stop listening. */
  close(): Promise<void>;
  /**
   * startProxy only: hold (true) or pass again (false) what the open connections' clients send
   * upstream (connections made later are not held): with the parent as the client, its acks stop
   * reaching the enclave, so chunks stay in flight (a cut then makes the enclave resend them).
   */
  holdUpstream(on: boolean): void;
}

type Target = net.NetConnectOpts | ((port: number) => net.NetConnectOpts);

interface Started {
  server: net.Server;
  /** Each client and its upstream connection (startProxy). */
  links: Map<net.Socket, net.Socket>;
  /** Every open socket: the clients and their upstream connections. */
  pairs: Set<net.Socket>;
  clients: Set<net.Socket>;
  count: () => number;
}

function startServer(listen: net.ListenOptions, onConn: (s: net.Socket, pairs: Set<net.Socket>) => void): Promise<Started> {
  return new Promise((resolve, reject) => {
    const pairs = new Set<net.Socket>();
    const clients = new Set<net.Socket>();
    let n = 0;
    if (listen.path) rmSync(listen.path, { force: true });
    const server = net.createServer((s) => {
      n++;
      pairs.add(s);
      clients.add(s);
      s.on('close', () => {
        pairs.delete(s);
        clients.delete(s);
      });
      s.on('error', () => {});
      onConn(s, pairs);
    });
    server.once('error', reject);
    server.listen(listen, () => resolve({ server, pairs, clients, count: () => n, links: new Map() }));
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

function proxyHandle(started: Started): StreamProxy {
  let cuts = 0;
  return {
    cut() {
      cuts++;
      const n = started.clients.size;
      for (const s of [...started.pairs]) s.destroy();
      // At once, not on 'close' (a tick later): a wait for `connections > 0` right after a cut
      // must see the reconnection, not the connections just cut.
      started.pairs.clear();
      started.clients.clear();
      return n;
    },
    get cuts() {
      return cuts;
    },
    get connections() {
      return started.clients.size;
    },
    get accepted() {
      return started.count();
    },
    close() {
      for (const s of [...started.pairs]) s.destroy();
      return new Promise((r) => started.server.close(() => r()));
    },
    holdUpstream(on: boolean) {
      for (const [client, up] of started.links) hold(client, up, on);
    },
  };
}

function hold(client: net.Socket, up: net.Socket, on: boolean): void {
  if (on) {
    client.unpipe(up);
    client.pause();
  } else client.pipe(up);
}

/** A plain proxy: every connection on `listen` is piped to `target`. */
export async function startProxy(listen: net.ListenOptions, target: net.NetConnectOpts): Promise<StreamProxy> {
  const started: Started = await startServer(listen, (s, pairs) => {
    const up = net.connect(target);
    up.on('error', () => s.destroy());
    pipeBoth(s, up, pairs);
    started.links.set(s, up);
    s.on('close', () => started.links.delete(s));
  });
  return proxyHandle(started);
}

/**
 * Stand-in for a VMM's hybrid vsock socket at `path`: reads `CONNECT <port>\n`, connects to the
 * "guest" listener `guest(port)`, answers `OK <n>\n` and pipes; closes if the guest port is dead.
 */
export async function startHybridMux(path: string, guest: Target): Promise<StreamProxy> {
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
