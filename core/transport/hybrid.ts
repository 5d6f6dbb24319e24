/**
 * Firecracker-style hybrid vsock (`vsock+unix:///path/v.sock:PORT`).
 *
 * Host -> guest (connect): connect to the VMM's Unix socket `path`, write `CONNECT <port>\n`,
 * read `OK <host_port>\n`, then the stream is the guest's vsock connection.
 * Guest -> host (listen): when a guest connects to vsock CID 2 (the host) port P, the VMM connects
 * to the Unix socket `<path>_<P>`; listening therefore means listening on `<path>_<port>`.
 */
import type net from 'node:net';
import { TransportError, type HybridAddr } from './address.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './constants.js';
import { netConnect, timeoutError, type ConnectionHandler, type Listener } from './socket.js';
import { listenUnix } from './unix.js';

const MAX_REPLY = 128;

/**
 * Read one `\n`-terminated line; bytes after it are pushed back into the socket. Uses
 * 'readable' + read() (not 'data'), so the socket is left non-flowing and the next 'data'
 * listener starts it as usual.
 */
function readReplyLine(sock: net.Socket, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got: Buffer = Buffer.alloc(0);
    const finish = (err: Error | undefined, line?: string): void => {
      clearTimeout(timer);
      sock.off('readable', onReadable);
      sock.off('error', onError);
      sock.off('end', onEnd);
      if (err) {
        sock.destroy();
        reject(err);
      } else resolve(line!);
    };
    const onReadable = (): void => {
      let d: Buffer | null;
      while ((d = sock.read() as Buffer | null) !== null) {
        got = got.length ? Buffer.concat([got, d]) : d;
        const nl = got.indexOf(10);
        if (nl >= 0) {
          const rest = got.subarray(nl + 1);
          if (rest.length) sock.unshift(rest);
          return finish(undefined, got.subarray(0, nl).toString('latin1').replace(/\r$/, ''));
        }
        if (got.length > MAX_REPLY) return finish(new TransportError('QLOG_ERR_TRANSPORT_HYBRID/not-a-line', { uri: what, bytes: got.length }));
      }
    };
    const onError = (err: Error): void => finish(new TransportError('QLOG_ERR_TRANSPORT_HYBRID/socket', { uri: what, reason: err.message }));
    const onEnd = (): void => finish(new TransportError('QLOG_ERR_TRANSPORT_REFUSED/vmm-closed', { uri: what }));
    const timer = setTimeout(() => finish(timeoutError(what, timeoutMs)), timeoutMs);
    sock.on('readable', onReadable);
    sock.once('error', onError);
    sock.once('end', onEnd);
  });
}

export async function connectHybrid(addr: Pick<HybridAddr, 'path' | 'port'>, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<net.Socket> {
  const what = `vsock+unix://${addr.path}:${addr.port}`;
  const started = Date.now();
  const sock = await netConnect({ path: addr.path }, what, timeoutMs);
  sock.write(`CONNECT ${addr.port}\n`);
  const line = await readReplyLine(sock, what, Math.max(1, timeoutMs - (Date.now() - started)));
  if (!/^OK \d+$/.test(line)) {
    sock.destroy();
    throw new TransportError('QLOG_ERR_TRANSPORT_HYBRID', { uri: what, port: addr.port, found: JSON.stringify(line.slice(0, 64)) });
  }
  sock.setNoDelay?.(true);
  return sock;
}

/** The Unix socket a VMM connects to for guest-initiated connections to host port `port`. */
export function hybridListenPath(addr: Pick<HybridAddr, 'path' | 'port'>): string {
  return `${addr.path}_${addr.port}`;
}

export function listenHybrid(addr: HybridAddr, onConnection: ConnectionHandler, onError?: (err: Error) => void): Promise<Listener> {
  const path = hybridListenPath(addr);
  return listenUnix({
    path,
    label: addr.uri,
    onConnection: (s, peer) => onConnection(s, { ...peer, transport: 'hybrid', port: addr.port }),
    onError,
    peerLabel: (n) => `vsock+unix:${addr.path}:${addr.port}#${n}`,
  });
}
