/**
 * Shared pieces of the net-based transports (unix, tcp, hybrid): connect with a timeout and
 * clear errors, and a listener that tracks its connections so close() leaves nothing behind.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { TransportError, type PeerIdentity } from './address.js';
import { addonFunction } from '../native-addon.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './constants.js';
import type { TlsContext } from './tls-files.js';

export interface ConnectOptions {
  /** Give up after this many milliseconds (default 10 s). */
  timeoutMs?: number;
  /** tls:// only: CAs, client certificate, checks (default: the system CAs, full verification). */
  tls?: TlsContext;
}

export type ConnectionHandler = (stream: Duplex, peer: PeerIdentity) => void;

export interface Listener {
  /** The URI actually bound (a tcp port 0 becomes the real port). */
  readonly uri: string;
  /** Stop accepting, destroy connections that are still open, remove the socket file (unix). */
  close(): Promise<void>;
}

/** Map a socket error to a TransportError that says what happened and what to check. */
export function connectError(err: NodeJS.ErrnoException, what: string): TransportError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return new TransportError('QLOG_ERR_TRANSPORT_REFUSED', { uri: what });
    case 'ENOENT':
      return new TransportError('QLOG_ERR_TRANSPORT_REFUSED/no-socket', { uri: what });
    case 'EACCES':
    case 'EPERM':
      return new TransportError('QLOG_ERR_TRANSPORT_DENIED', { uri: what });
    case 'ECONNRESET':
    case 'EPIPE':
      return new TransportError('QLOG_ERR_TRANSPORT_RESET', { uri: what });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TransportError('QLOG_ERR_TRANSPORT_RESOLVE', { uri: what, errno: err.code });
    default:
      return new TransportError('QLOG_ERR_TRANSPORT_CONNECT', { uri: what, reason: err.message });
  }
}

export function timeoutError(what: string, ms: number): TransportError {
  return new TransportError('QLOG_ERR_TRANSPORT_TIMEOUT', { uri: what, ms });
}

/**
 * Asks the kernel for a send buffer of `bytes` on a socket node made (unix, tcp, hybrid; SO_SNDBUF
 * through the native addon: node has no call for it). Linux doubles the request and caps it at
 * net.core.wmem_max (212992 by default; raise it with sysctl for more). Returns the buffer size
 * the socket has now, or undefined where it cannot be set (no addon, a TLS or vsock stream).
 * Why (vsock-forward): with the default ~208 KiB, a sender wrote a 600 KB message in three parts,
 * each waiting for the receiver to drain the last; the two agents then took turns more than they
 * worked at once (1M lines end to end: 550-570 -> 503-545 ms with 1 MiB asked).
 */
export function widenSendBuffer(stream: Duplex, bytes: number): number | undefined {
  if (!(stream instanceof net.Socket)) return undefined;
  const fd = (stream as net.Socket & { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  const set = addonFunction<(fd: number, bytes: number) => number>('setSendBuffer');
  if (set === undefined) return undefined;
  const got = set(fd, bytes);
  return got > 0 ? got : undefined;
}

/** net.connect with a timeout; resolves with a connected socket (no idle timeout left armed). */
export function netConnect(opts: net.NetConnectOpts, what: string, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(opts);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(timeoutError(what, timeoutMs));
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      sock.destroy();
      reject(connectError(err, what));
    };
    sock.once('error', onError);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

/** Tracks accepted sockets of a net.Server so close() can destroy what is still open. */
export function trackConnections(server: net.Server): () => void {
  const open = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    open.add(s);
    s.once('close', () => open.delete(s));
  });
  return () => {
    for (const s of open) s.destroy();
    open.clear();
  };
}

/** server.close() without waiting for connections (they are destroyed by the caller). */
export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

export function listenServer(server: net.Server, opts: net.ListenOptions, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        err.code === 'EADDRINUSE'
          ? new TransportError('QLOG_ERR_TRANSPORT_IN_USE', { uri: what })
          : err.code === 'EACCES'
            ? new TransportError('QLOG_ERR_TRANSPORT_DENIED/listen', { uri: what })
            : new TransportError('QLOG_ERR_TRANSPORT_LISTEN', { uri: what, reason: err.message }),
      );
    };
    server.once('error', onError);
    server.listen(opts, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
