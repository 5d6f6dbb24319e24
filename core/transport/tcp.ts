/** TCP: connect and listen (IPv4 and IPv6). Nagle is off: frames are written whole. */
import net from 'node:net';
import type { TcpAddr } from './address.js';
import { closeServer, listenServer, netConnect, trackConnections, type ConnectionHandler, type Listener } from './socket.js';

export async function connectTcp(addr: Pick<TcpAddr, 'host' | 'port'>, timeoutMs?: number): Promise<net.Socket> {
  const sock = await netConnect({ host: addr.host, port: addr.port }, `tcp://${fmtHost(addr.host)}:${addr.port}`, timeoutMs);
  sock.setNoDelay(true);
  return sock;
}

export function fmtHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function listenTcp(addr: TcpAddr, onConnection: ConnectionHandler, onError?: (err: Error) => void): Promise<Listener> {
  const server = net.createServer();
  const destroyAll = trackConnections(server);
  server.on('connection', (sock) => {
    sock.setNoDelay(true);
    const host = sock.remoteAddress ?? '?';
    const port = sock.remotePort;
    onConnection(sock, { transport: 'tcp', address: host, port, label: `tcp:${fmtHost(host)}:${port}` });
  });
  await listenServer(server, { host: addr.host, port: addr.port }, addr.uri);
  server.on('error', (err) => onError?.(err));
  const bound = server.address() as net.AddressInfo;
  return {
    uri: `tcp://${fmtHost(addr.host)}:${bound.port}`,
    async close() {
      destroyAll();
      await closeServer(server);
    },
  };
}
