/** connect() and listen() over every transport. */
import type { Duplex } from 'node:stream';
import { parseAddress, peerOfAddress, type Address, type PeerIdentity, type TransportError } from './address.js';
import { connectHybrid, listenHybrid } from './hybrid.js';
import type { ConnectionHandler, ConnectOptions, Listener } from './socket.js';
import { connectTcp, listenTcp } from './tcp.js';
import type { TlsContext } from './tls-files.js';
import type * as TlsModule from './tls.js';
import { connectUnix, listenUnix } from './unix.js';
import { connectVsockAddr, listenVsock } from './vsock.js';

export interface ListenOptions {
  /** Errors of the listening socket after it is bound (accept failures); default: ignored. */
  onError?: (err: Error) => void;
  /** tls:// only: the certificate, key and CAs (core/transport/tls-files.ts). */
  tls?: TlsContext;
  /** tls:// only: a connection refused during its handshake (plaintext, bad client certificate ...). */
  onRefused?: (peer: PeerIdentity, err: TransportError) => void;
  /** tls:// only: time a client has to complete the handshake (default 10 s). */
  handshakeTimeoutMs?: number;
}

function toAddress(a: Address | string): Address {
  return typeof a === 'string' ? parseAddress(a) : a;
}

let tlsModule: Promise<typeof TlsModule> | undefined;
/** node:tls is loaded by agents that use a tls:// address only. */
function loadTls(): Promise<typeof TlsModule> {
  return (tlsModule ??= import('./tls.js'));
}

/** The settings of a tls:// connect without a `tls` map: the system CAs, full verification. */
const SYSTEM_TLS: TlsContext = Object.freeze({ verify: true, serverName: '', minVersion: 'TLSv1.2', requireClientCert: false, caLabel: 'the system CAs' });

/**
 * Open a stream to `addr`, with the identity of the peer (for tls://, the verified certificate's
 * subject). Rejects with a TransportError (code QLOG_ERR_TRANSPORT_*).
 */
export async function connectPeer(addr: Address | string, opts: ConnectOptions = {}): Promise<{ stream: Duplex; peer: PeerIdentity }> {
  const a = toAddress(addr);
  if (a.transport === 'tls') return (await loadTls()).connectTls(a, opts.tls ?? SYSTEM_TLS, opts.timeoutMs);
  return { stream: await connect(a, opts), peer: peerOfAddress(a) };
}

/** Open a stream to `addr`. Rejects with a TransportError (code QLOG_ERR_TRANSPORT_*). */
export function connect(addr: Address | string, opts: ConnectOptions = {}): Promise<Duplex> {
  const a = toAddress(addr);
  switch (a.transport) {
    case 'unix':
      return connectUnix(a, opts.timeoutMs);
    case 'tcp':
      return connectTcp(a, opts.timeoutMs);
    case 'tls':
      return connectPeer(a, opts).then((c) => c.stream);
    case 'hybrid':
      return connectHybrid(a, opts.timeoutMs);
    case 'vsock':
      return connectVsockAddr(a, opts.timeoutMs);
  }
}

/** Accept connections on `addr`; `onConnection` gets each stream and who is on the other end. */
export function listen(addr: Address | string, onConnection: ConnectionHandler, opts: ListenOptions = {}): Promise<Listener> {
  const a = toAddress(addr);
  switch (a.transport) {
    case 'unix':
      return listenUnix({ path: a.path, label: a.uri, onConnection, onError: opts.onError });
    case 'tcp':
      return listenTcp(a, onConnection, opts.onError);
    case 'tls':
      return loadTls().then((m) => m.listenTls(a, opts.tls, onConnection, opts));
    case 'hybrid':
      return listenHybrid(a, onConnection, opts.onError);
    case 'vsock':
      return listenVsock(a, onConnection, opts.onError);
  }
}
