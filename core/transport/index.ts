/**
 * Stream transports for the enclave <-> parent link. Every transport works in both modes:
 * `connect(addr)` gives a Duplex, `listen(addr, onConnection)` accepts many.
 */
export {
  parseAddress,
  peerOfAddress,
  TransportError,
  VSOCK_CID_ANY,
  type Address,
  type HybridAddr,
  type PeerIdentity,
  type TcpAddr,
  type TlsAddr,
  type TransportKind,
  type UnixAddr,
  type VsockAddr,
} from './address.js';
export type { ConnectionHandler, ConnectOptions, Listener } from './socket.js';
export { widenSendBuffer } from './socket.js';
export { connect, connectPeer, listen, type ListenOptions } from './connect.js';
export { checkTls, tlsGiven, subjectMatches, subjectPairs, tlsSchema, TLS_DEFAULTS, type TlsOptions } from './tls-options.js';
export type { TlsContext } from './tls-files.js';
export { hybridListenPath } from './hybrid.js';
export { loadVsock } from './vsock.js';
export { Endpoint, checkEndpoint, type EndpointConfig, type EndpointOptions } from './endpoint.js';
