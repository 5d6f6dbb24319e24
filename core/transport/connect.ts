/** connect() and listen() over every transport. */
import type { Duplex } from 'node:stream';
import { parseAddress, type Address } from './address.js';
import { connectHybrid, listenHybrid } from './hybrid.js';
import type { ConnectionHandler, ConnectOptions, Listener } from './socket.js';
import { connectTcp, listenTcp } from './tcp.js';
import { connectUnix, listenUnix } from './unix.js';
import { connectVsockAddr, listenVsock } from './vsock.js';

export interface ListenOptions {
  /** Errors of the listening socket after it is bound (accept failures); default: ignored. */
  onError?: (err: Error) => void;
}

function toAddress(a: Address | string): Address {
  return typeof a === 'string' ? parseAddress(a) : a;
}

/** Open a stream to `addr`. Rejects with a TransportError (code QLOG_ERR_TRANSPORT_*). */
export function connect(addr: Address | string, opts: ConnectOptions = {}): Promise<Duplex> {
  const a = toAddress(addr);
  switch (a.transport) {
    case 'unix':
      return connectUnix(a, opts.timeoutMs);
    case 'tcp':
      return connectTcp(a, opts.timeoutMs);
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
    case 'hybrid':
      return listenHybrid(a, onConnection, opts.onError);
    case 'vsock':
      return listenVsock(a, onConnection, opts.onError);
  }
}
