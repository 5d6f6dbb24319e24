/**
 * Transport addresses: the URIs users write in `connect:` / `listen:` options.
 *
 *   vsock://CID:PORT            AF_VSOCK (CID may be `any` when listening)
 *   unix:///abs/path.sock       Unix stream socket
 *   tcp://host:port             TCP (IPv6: tcp://[::1]:24224)
 *   tls://host:port             TLS over TCP (core/transport/tls.ts; settings in the `tls` option map)
 *   vsock+unix:///abs/v.sock:PORT
 *                               Firecracker-style hybrid vsock: a Unix socket on the host that
 *                               multiplexes guest ports (see docs/protocol.md)
 */
import { isAbsolute } from 'node:path';
import { QlogError, type IdsOf } from '../errors.js';
import { VSOCK_CID_ANY, vsockUri } from './constants.js';

export type TransportKind = 'vsock' | 'unix' | 'tcp' | 'tls' | 'hybrid';

export { VSOCK_CID_ANY };

export interface VsockAddr {
  readonly transport: 'vsock';
  /** A CID, or VSOCK_CID_ANY for `any`. */
  readonly cid: number;
  readonly port: number;
  readonly uri: string;
}
export interface UnixAddr {
  readonly transport: 'unix';
  readonly path: string;
  readonly uri: string;
}
export interface TcpAddr {
  readonly transport: 'tcp';
  /** Host name or IP address, without IPv6 brackets. */
  readonly host: string;
  /** 0 = any free port (listen only). */
  readonly port: number;
  readonly uri: string;
}
export interface TlsAddr {
  readonly transport: 'tls';
  /** Host name or IP address, without IPv6 brackets (also the default TLS server name). */
  readonly host: string;
  /** 0 = any free port (listen only). */
  readonly port: number;
  readonly uri: string;
}
export interface HybridAddr {
  readonly transport: 'hybrid';
  /** The host-side Unix socket of the VMM (e.g. Firecracker's `uds_path`). */
  readonly path: string;
  /** The vsock port inside the guest. */
  readonly port: number;
  readonly uri: string;
}
export type Address = VsockAddr | UnixAddr | TcpAddr | TlsAddr | HybridAddr;

/** Who is on the other end of a stream. `label` goes to record metadata (meta.peer) and logs. */
export interface PeerIdentity {
  readonly transport: TransportKind;
  /** vsock CID of the peer (vsock transport only). */
  readonly cid?: number;
  readonly port?: number;
  /** Remote IP (tcp, tls) or socket path (unix, hybrid). */
  readonly address?: string;
  /**
   * Subject of the peer's TLS certificate, `CN=enclave-1,O=Acme` (tls transport, and only when the
   * certificate was verified against ca_file): goes to record metadata (meta.subject).
   */
  readonly subject?: string;
  readonly label: string;
}

type TransportIds = IdsOf<'QLOG_ERR_TRANSPORT_'> | 'QLOG_ERR_VSOCK_UNAVAILABLE/transport';

/** Errors a user can see from the transport layer. `code` is stable (documented in docs/protocol.md). */
export class TransportError<I extends TransportIds = TransportIds> extends QlogError<I> {
  override name = 'TransportError';
}

const EXAMPLES = 'vsock://3:6000, vsock://any:6000, unix:///run/qlog.sock, tcp://127.0.0.1:24224, tls://parent.example:24224, vsock+unix:///run/v.sock:6000';
const MAX_U32 = 0xffffffff;
/** sockaddr_un.sun_path is 108 bytes including the terminating NUL. */
export const UNIX_PATH_MAX = 107;

function bad(uri: string, expected: string, found: string, example: string): TransportError {
  return new TransportError('QLOG_ERR_TRANSPORT_ADDRESS', { uri: JSON.stringify(uri), expected, found, example });
}

function parseInteger(s: string, max: number): number | undefined {
  if (!/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

function checkUnixPath(uri: string, path: string, example: string): void {
  if (!path || !isAbsolute(path)) throw bad(uri, 'an absolute socket path after the scheme (three slashes)', JSON.stringify(path), example);
  if (Buffer.byteLength(path) > UNIX_PATH_MAX) throw bad(uri, `a socket path of at most ${UNIX_PATH_MAX} bytes`, `${Buffer.byteLength(path)} bytes`, example);
  if (path.includes('\0')) throw bad(uri, 'a path without NUL bytes', 'a NUL byte', example);
}

/** Parse a transport URI. Throws a TransportError saying what was expected, what was found and an example. */
export function parseAddress(uri: string): Address {
  if (typeof uri !== 'string') throw bad(String(uri), 'a string', typeof uri, EXAMPLES);
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(uri.trim());
  if (!m) throw bad(uri, 'scheme://address', 'no scheme', EXAMPLES);
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  switch (scheme) {
    case 'vsock': {
      const ex = 'vsock://3:6000 or vsock://any:6000';
      const v = /^([^:]+):([^:]+)$/.exec(rest);
      if (!v) throw bad(uri, 'vsock://CID:PORT', JSON.stringify(rest), ex);
      const cidText = v[1]!.toLowerCase();
      const cid = cidText === 'any' ? VSOCK_CID_ANY : parseInteger(cidText, MAX_U32);
      if (cid === undefined) throw bad(uri, 'a CID (0-4294967295) or "any"', JSON.stringify(v[1]), ex);
      const port = parseInteger(v[2]!, MAX_U32 - 1);
      if (port === undefined) throw bad(uri, 'a port number (0-4294967294)', JSON.stringify(v[2]), ex);
      return { transport: 'vsock', cid, port, uri: vsockUri(cid, port) };
    }
    case 'unix': {
      const ex = 'unix:///run/qlog.sock';
      checkUnixPath(uri, rest, ex);
      return { transport: 'unix', path: rest, uri: `unix://${rest}` };
    }
    case 'tcp':
    case 'tls': {
      const ex = `${scheme}://127.0.0.1:24224 or ${scheme}://[::1]:24224`;
      const t = /^(?:\[([0-9a-fA-F:.%a-zA-Z]+)\]|([^:[\]/]+)):(\d+)$/.exec(rest);
      if (!t) throw bad(uri, `${scheme}://HOST:PORT (IPv6 in brackets)`, JSON.stringify(rest), ex);
      const host = t[1] ?? t[2]!;
      const port = parseInteger(t[3]!, 65535);
      if (port === undefined) throw bad(uri, 'a port number (0-65535)', JSON.stringify(t[3]), ex);
      return { transport: scheme, host, port, uri: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}` };
    }
    case 'vsock+unix': {
      const ex = 'vsock+unix:///run/firecracker/v.sock:6000';
      const h = /^(.*):(\d+)$/.exec(rest);
      if (!h) throw bad(uri, 'vsock+unix:///PATH:PORT (socket path, then the guest vsock port)', JSON.stringify(rest), ex);
      checkUnixPath(uri, h[1]!, ex);
      const port = parseInteger(h[2]!, MAX_U32 - 1);
      if (port === undefined) throw bad(uri, 'a port number (0-4294967294)', JSON.stringify(h[2]), ex);
      // The listening side binds `<path>_<port>` (Firecracker's convention): that name must fit too.
      if (Buffer.byteLength(`${h[1]}_${port}`) > UNIX_PATH_MAX)
        throw bad(uri, `a socket path short enough for "<path>_<port>" (${UNIX_PATH_MAX} bytes)`, `${Buffer.byteLength(h[1]!)} bytes`, ex);
      return { transport: 'hybrid', path: h[1]!, port, uri: `vsock+unix://${h[1]}:${port}` };
    }
    default:
      throw bad(uri, 'one of the schemes vsock://, unix://, tcp://, tls://, vsock+unix://', JSON.stringify(`${scheme}://`), EXAMPLES);
  }
}

/** The identity of the endpoint we connected to (connect mode). */
export function peerOfAddress(addr: Address): PeerIdentity {
  switch (addr.transport) {
    case 'vsock':
      return { transport: 'vsock', cid: addr.cid, port: addr.port, label: `vsock:${addr.cid}:${addr.port}` };
    case 'unix':
      return { transport: 'unix', address: addr.path, label: `unix:${addr.path}` };
    case 'tcp':
    case 'tls':
      return { transport: addr.transport, address: addr.host, port: addr.port, label: `${addr.transport}:${addr.host}:${addr.port}` };
    case 'hybrid':
      return { transport: 'hybrid', address: addr.path, port: addr.port, label: `vsock+unix:${addr.path}:${addr.port}` };
  }
}
