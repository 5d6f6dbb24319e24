/**
 * AF_VSOCK through the native addon (core/transport/vsock-native.ts). The module is imported on
 * first use, so agents without vsock:// addresses never load it, and a missing or unbuildable
 * addon only breaks vsock:// addresses, with a clear message.
 */
import type { Duplex } from 'node:stream';
import { TransportError, type VsockAddr } from './address.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, VSOCK_CID_ANY, vsockUri } from './constants.js';
import type { ConnectionHandler, Listener } from './socket.js';
import type * as VsockNative from './vsock-native.js';
import type { VsockAddress, VsockSocket } from './vsock-native.js';

let loading: Promise<typeof VsockNative> | undefined;

function unavailable(reason: string): TransportError {
  return new TransportError('QLOG_ERR_VSOCK_UNAVAILABLE/transport', { reason });
}

/** Load the addon once; rejects with QLOG_ERR_VSOCK_UNAVAILABLE if it cannot be used. */
export async function loadVsock(): Promise<typeof VsockNative> {
  loading ??= import('./vsock-native.js').catch((err: unknown) => {
    throw unavailable(err instanceof Error ? err.message : String(err));
  });
  const mod = await loading;
  const ok = mod.vsockAvailable();
  if (!ok.ok) throw unavailable(ok.reason);
  return mod;
}

function vsockLabel(a: VsockAddress | undefined): string {
  return a ? `vsock:${a.cid}:${a.port}` : 'vsock:?';
}

export async function connectVsockAddr(addr: VsockAddr, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<Duplex> {
  if (addr.cid === VSOCK_CID_ANY) throw new TransportError('QLOG_ERR_TRANSPORT_ADDRESS/any', { uri: addr.uri });
  const mod = await loadVsock();
  return mod.connectVsock({ cid: addr.cid, port: addr.port }, { timeoutMs });
}

export async function listenVsock(addr: VsockAddr, onConnection: ConnectionHandler, onError?: (err: Error) => void): Promise<Listener> {
  const mod = await loadVsock();
  const server = new mod.VsockServer();
  const open = new Set<Duplex>();
  server.on('connection', (sock: VsockSocket) => {
    open.add(sock);
    sock.once('close', () => open.delete(sock));
    onConnection(sock, { transport: 'vsock', cid: sock.remote?.cid, port: sock.remote?.port, label: vsockLabel(sock.remote) });
  });
  server.on('error', (err: Error) => onError?.(err));
  await server.listen({ cid: addr.cid, port: addr.port });
  const bound = server.address();
  return {
    uri: vsockUri(bound.cid, bound.port),
    async close() {
      for (const s of open) s.destroy();
      open.clear();
      await server.close();
    },
  };
}
