/** Unix stream sockets: connect, and listen with careful removal of a stale socket file. */
import net from 'node:net';
import { lstat, unlink } from 'node:fs/promises';
import { TransportError, type UnixAddr } from './address.js';
import { closeServer, listenServer, netConnect, trackConnections, type ConnectionHandler, type Listener } from './socket.js';

export function connectUnix(addr: Pick<UnixAddr, 'path'>, timeoutMs?: number): Promise<net.Socket> {
  return netConnect({ path: addr.path }, `unix://${addr.path}`, timeoutMs);
}

/** true when something accepts connections on the socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path });
    const done = (alive: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(alive);
    };
    // A listener whose backlog is full does not answer at once: treat a slow answer as alive.
    const timer = setTimeout(() => done(true), 1000);
    s.once('connect', () => done(true));
    s.once('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}

/**
 * Remove a socket file left behind by a process that died, but only when it is a socket and
 * nothing answers on it. Anything else at that path is an error (we never delete regular files).
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) throw new TransportError('QLOG_ERR_TRANSPORT_IN_USE/not-socket', { uri: `unix://${path}` });
  if (await answers(path)) throw new TransportError('QLOG_ERR_TRANSPORT_IN_USE/unix', { uri: `unix://${path}` });
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export interface UnixListenOptions {
  path: string;
  /** URI used in error messages and peer labels. */
  label: string;
  onConnection: ConnectionHandler;
  onError?: (err: Error) => void;
  /** Peer label for the n-th accepted connection. */
  peerLabel?: (n: number) => string;
}

export async function listenUnix(o: UnixListenOptions): Promise<Listener> {
  await removeStaleSocket(o.path);
  const server = net.createServer({ pauseOnConnect: false });
  const destroyAll = trackConnections(server);
  let n = 0;
  server.on('connection', (sock) => {
    n++;
    o.onConnection(sock, { transport: 'unix', address: o.path, label: o.peerLabel ? o.peerLabel(n) : `unix:${o.path}#${n}` });
  });
  await listenServer(server, { path: o.path }, o.label);
  server.on('error', (err) => o.onError?.(err));
  const ino = (await lstat(o.path)).ino;
  return {
    uri: o.label,
    async close() {
      destroyAll();
      await closeServer(server);
      // net.Server unlinks its socket on close; make sure, without removing a successor's socket.
      try {
        if ((await lstat(o.path)).ino === ino) await unlink(o.path);
      } catch {
        /* already gone */
      }
    },
  };
}
