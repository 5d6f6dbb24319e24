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
  type TransportKind,
  type UnixAddr,
  type VsockAddr,
} from './address.js';
export type { ConnectionHandler, ConnectOptions, Listener } from './socket.js';
export { connect, listen, type ListenOptions } from './connect.js';
export { hybridListenPath } from './hybrid.js';
export { loadVsock } from './vsock.js';
export { Endpoint, checkEndpoint, type EndpointConfig, type EndpointOptions } from './endpoint.js';
