/**
 * AF_VSOCK through the native addon (core/transport/vsock-native.ts). Loaded lazily, so a
 * missing or unbuildable addon only breaks vsock:// addresses, with a clear message.
 */
import type { Duplex } from 'node:stream';
import type { EventEmitter } from 'node:events';
import { TransportError, VSOCK_CID_ANY, type VsockAddr } from './address.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, type ConnectionHandler, type Listener } from './socket.js';

/** The part of vsock-native.ts used here (declared locally so this file compiles without it). */
interface NativeAddress {
  cid: number;
  port: number;
}
interface NativeSocket extends Duplex {
  readonly remote?: NativeAddress;
  readonly local?: NativeAddress;
}
interface NativeServer extends EventEmitter {
  listen(addr: NativeAddress): Promise<void>;
  address(): NativeAddress;
  close(): Promise<void>;
}
interface VsockNative {
  vsockAvailable(): { ok: true } | { ok: false; reason: string };
  localCid(): number;
  connectVsock(addr: NativeAddress, opts?: { timeoutMs?: number }): Promise<NativeSocket>;
  VsockServer: new () => NativeServer;
}

// A variable specifier keeps tsc from requiring the module at build time.
const NATIVE_MODULE = './vsock-native.js';
let loading: Promise<VsockNative> | undefined;

function unavailable(reason: string): TransportError {
  return new TransportError('QLOG_ERR_VSOCK_UNAVAILABLE/transport', { reason });
}

/** Load the addon once; rejects with QLOG_ERR_VSOCK_UNAVAILABLE if it cannot be used. */
export async function loadVsock(): Promise<VsockNative> {
  loading ??= (import(NATIVE_MODULE) as Promise<VsockNative>).catch((err: unknown) => {
    throw unavailable(err instanceof Error ? err.message : String(err));
  });
  const mod = await loading;
  const ok = mod.vsockAvailable();
  if (!ok.ok) throw unavailable(ok.reason);
  return mod;
}

function vsockLabel(a: NativeAddress | undefined): string {
  return a ? `vsock:${a.cid}:${a.port}` : 'vsock:?';
}

export async function connectVsockAddr(addr: VsockAddr, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<Duplex> {
  if (addr.cid === VSOCK_CID_ANY)
    throw new TransportError('QLOG_ERR_TRANSPORT_ADDRESS/any', { uri: addr.uri });
  const mod = await loadVsock();
  return mod.connectVsock({ cid: addr.cid, port: addr.port }, { timeoutMs });
}

export async function listenVsock(addr: VsockAddr, onConnection: ConnectionHandler, onError?: (err: Error) => void): Promise<Listener> {
  const mod = await loadVsock();
  const server = new mod.VsockServer();
  const open = new Set<Duplex>();
  server.on('connection', (sock: NativeSocket) => {
    open.add(sock);
    sock.once('close', () => open.delete(sock));
    onConnection(sock, { transport: 'vsock', cid: sock.remote?.cid, port: sock.remote?.port, label: vsockLabel(sock.remote) });
  });
  server.on('error', (err: Error) => onError?.(err));
  await server.listen({ cid: addr.cid, port: addr.port });
  const bound = server.address();
  return {
    uri: `vsock://${bound.cid === VSOCK_CID_ANY ? 'any' : bound.cid}:${bound.port}`,
    async close() {
      for (const s of open) s.destroy();
      open.clear();
      await server.close();
    },
  };
}
