/**
 * TLS over TCP (`tls://host:port`) with Node's tls: connect and listen, mutual TLS, and every
 * handshake failure turned into a message that says what failed (unknown CA, expired, host name,
 * no client certificate, plaintext peer) and where. Loaded on first use (core/transport/connect.ts):
 * agents without a tls:// address never load node:tls.
 *
 * Certificates are checked here, not inside OpenSSL (rejectUnauthorized is off, the check is ours,
 * before the socket is handed over): OpenSSL's own refusal loses the reason, ours names it. A
 * connection whose check fails is destroyed before a byte of data is read or written.
 */
import { isIP, type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import { TransportError, type PeerIdentity, type TlsAddr } from './address.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './constants.js';
import { closeServer, connectError, listenServer, timeoutError, trackConnections, type ConnectionHandler, type Listener } from './socket.js';
import { fmtHost } from './tcp.js';
import type { TlsContext } from './tls-files.js';

export interface TlsListenOptions {
  onError?: (err: Error) => void;
  /** A connection refused during or right after the handshake (the error says why). */
  onRefused?: (peer: PeerIdentity, err: TransportError) => void;
  /** Time a client has to complete the handshake (default 10 s). */
  handshakeTimeoutMs?: number;
}

/** With TLS 1.3 a server that refuses our certificate does so after our side finished: wait this long for its verdict. */
const VERDICT_WAIT_MS = 1000;

/** Verification codes that mean "not signed by a CA we trust". */
const UNKNOWN_CA = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
/** Alerts a server sends when it does not like our certificate. */
const REFUSED_CERT =
  /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|DECRYPT_ERROR)$/;
/** What OpenSSL says when the other side sends something that is not a TLS record. */
const NOT_TLS =
  /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|HTTPS_PROXY_REQUEST|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE|RECORD_LENGTH_MISMATCH|BAD_RECORD_TYPE/;
const VERSION = /UNSUPPORTED_PROTOCOL|ALERT_PROTOCOL_VERSION|NO_PROTOCOLS_AVAILABLE|VERSION_TOO_LOW|VERSION_TOO_HIGH/;

/** A certificate subject as `CN=enclave-1,O=Acme` (node writes one attribute a line, values RFC 4514-escaped). */
function subjectOf(cert: { subject?: unknown } | undefined): string | undefined {
  const lines = certLines(cert?.subject);
  return lines || undefined;
}

function certLines(name: unknown): string {
  if (!name || typeof name !== 'object') return '';
  return Object.entries(name as Record<string, string | string[]>)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${String(x).replace(/([,+"\\<>;])/g, '\\$1')}`))
    .join(',');
}

function peerCert(sock: tls.TLSSocket): tls.PeerCertificate | undefined {
  try {
    const c = sock.getPeerCertificate();
    return c && Object.keys(c).length ? c : undefined;
  } catch {
    return undefined;
  }
}

/** Why a certificate the peer presented failed verification (Node's authorizationError code). */
function certError(
  code: string,
  cert: tls.PeerCertificate | undefined,
  side: 'server' | 'client',
  p: { uri: string; peer: string; ca: string; host: string },
): TransportError {
  const subject = subjectOf(cert) ?? '(no subject)';
  const issuer = certLines(cert?.issuer) || '?';
  if (side === 'server') {
    if (UNKNOWN_CA.has(code)) return new TransportError('QLOG_ERR_TRANSPORT_TLS/unknown-ca', { uri: p.uri, subject, issuer, ca: p.ca, code });
    if (code === 'CERT_HAS_EXPIRED') return new TransportError('QLOG_ERR_TRANSPORT_TLS/expired', { uri: p.uri, subject, date: cert?.valid_to ?? '?' });
    if (code === 'CERT_NOT_YET_VALID')
      return new TransportError('QLOG_ERR_TRANSPORT_TLS/not-yet-valid', { uri: p.uri, subject, date: cert?.valid_from ?? '?' });
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code.startsWith('Hostname'))
      return new TransportError('QLOG_ERR_TRANSPORT_TLS/hostname', { uri: p.uri, names: cert?.subjectaltname || `the subject ${subject}`, host: p.host });
    return new TransportError('QLOG_ERR_TRANSPORT_TLS', { uri: p.uri, reason: `the peer's certificate (${subject}) failed verification (${code})` });
  }
  if (!cert) return new TransportError('QLOG_ERR_TRANSPORT_TLS/no-client-cert', { peer: p.peer, uri: p.uri });
  if (UNKNOWN_CA.has(code))
    return new TransportError('QLOG_ERR_TRANSPORT_TLS/client-unknown-ca', { peer: p.peer, uri: p.uri, subject, issuer, ca: p.ca, code });
  if (code === 'CERT_HAS_EXPIRED')
    return new TransportError('QLOG_ERR_TRANSPORT_TLS/client-expired', { peer: p.peer, uri: p.uri, subject, date: cert.valid_to });
  return new TransportError('QLOG_ERR_TRANSPORT_TLS/client-invalid', { peer: p.peer, uri: p.uri, subject, code });
}

/** A failed handshake (or a connection lost during it) as seen by the connecting side. */
function clientError(err: NodeJS.ErrnoException & { reason?: string }, uri: string, ctx: TlsContext, tcpUp: boolean): TransportError {
  const code = err.code ?? '';
  const reason = err.reason ?? err.message;
  if (code.endsWith('ALERT_CERTIFICATE_REQUIRED') || (!ctx.cert && code.endsWith('ALERT_HANDSHAKE_FAILURE')))
    return new TransportError('QLOG_ERR_TRANSPORT_TLS/cert-required', { uri });
  if (REFUSED_CERT.test(code)) return new TransportError('QLOG_ERR_TRANSPORT_TLS/refused-cert', { uri, alert: reason });
  if (NOT_TLS.test(code)) return new TransportError('QLOG_ERR_TRANSPORT_TLS/not-tls', { uri, reason });
  if (VERSION.test(code)) return new TransportError('QLOG_ERR_TRANSPORT_TLS/version', { uri, min: ctx.minVersion, reason });
  if (tcpUp && (code === 'ECONNRESET' || code === 'EPIPE')) return new TransportError('QLOG_ERR_TRANSPORT_TLS/closed', { uri });
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return new TransportError('QLOG_ERR_TRANSPORT_TLS', { uri, reason });
  return connectError(err, uri);
}

/** A failed handshake as seen by the listener. */
function serverError(err: NodeJS.ErrnoException & { reason?: string }, peer: string, uri: string, timeoutMs: number): TransportError {
  const code = err.code ?? '';
  if (NOT_TLS.test(code)) return new TransportError('QLOG_ERR_TRANSPORT_TLS/plaintext', { peer, uri });
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return new TransportError('QLOG_ERR_TRANSPORT_TLS/handshake-timeout', { peer, uri, ms: timeoutMs });
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return new TransportError('QLOG_ERR_TRANSPORT_TLS/client-handshake', {
      peer,
      uri,
      reason: 'the client closed the connection (it may not trust our certificate: see its log)',
    });
  return new TransportError('QLOG_ERR_TRANSPORT_TLS/client-handshake', { peer, uri, reason: err.reason ?? err.message });
}

/** A verified certificate's subject joins the peer's identity (meta.subject). */
function identity(sock: tls.TLSSocket, base: PeerIdentity, verified: boolean): PeerIdentity {
  const subject = verified ? subjectOf(peerCert(sock)) : undefined;
  return subject ? { ...base, subject } : base;
}

/** Connect and complete the handshake; resolves with the stream and who is on the other end. */
export function connectTls(addr: TlsAddr, ctx: TlsContext, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<{ stream: tls.TLSSocket; peer: PeerIdentity }> {
  const uri = addr.uri;
  const host = ctx.serverName || addr.host;
  const base: PeerIdentity = { transport: 'tls', address: addr.host, port: addr.port, label: `tls:${fmtHost(addr.host)}:${addr.port}` };
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const sock = tls.connect({
      host: addr.host,
      port: addr.port,
      // SNI carries names only (RFC 6066); the certificate check uses `host` either way.
      servername: ctx.serverName || (isIP(addr.host) ? undefined : addr.host),
      ca: ctx.ca,
      cert: ctx.cert,
      key: ctx.key,
      minVersion: ctx.minVersion,
      rejectUnauthorized: false,
    });
    let tcpUp = false;
    let settled = false;
    const finish = (err?: TransportError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(verdict);
      sock.off('error', onError);
      sock.off('close', onClose);
      sock.off('session', onSession);
      if (err) {
        sock.destroy();
        reject(err);
      } else {
        sock.setNoDelay(true);
        resolve({ stream: sock, peer: identity(sock, base, ctx.verify) });
      }
    };
    const onError = (err: NodeJS.ErrnoException): void => finish(clientError(err, uri, ctx, tcpUp));
    const onClose = (): void => finish(new TransportError('QLOG_ERR_TRANSPORT_TLS/closed', { uri }));
    // Not from inside the 'session' event: it fires while node is still reading the TLS records,
    // and a write made from there (by the caller, once resolved) is never flushed.
    const onSession = (): void => {
      if (secure) setImmediate(() => finish());
    };
    let secure = false;
    let verdict: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => finish(timeoutError(uri, timeoutMs)), timeoutMs);
    sock.once('connect', () => (tcpUp = true));
    sock.on('error', onError);
    sock.once('close', onClose);
    // A TLS 1.3 server sends its session tickets only once it accepted our certificate.
    sock.on('session', onSession);
    sock.once('secureConnect', () => {
      if (ctx.verify && !sock.authorized) {
        const code = String(sock.authorizationError ?? 'UNKNOWN');
        return finish(certError(code, peerCert(sock), 'server', { uri, peer: '', ca: ctx.caLabel, host }));
      }
      secure = true;
      if (sock.getProtocol() !== 'TLSv1.3') return finish();
      verdict = setTimeout(() => finish(), Math.max(0, Math.min(VERDICT_WAIT_MS, timeoutMs - (Date.now() - started))));
    });
  });
}

function remote(sock: tls.TLSSocket): { address: string; port?: number } {
  // Once a failed handshake destroyed the TLS socket, only the TCP socket under it still knows.
  const raw = (sock as unknown as { _parent?: Socket })._parent;
  return { address: sock.remoteAddress ?? raw?.remoteAddress ?? '?', port: sock.remotePort ?? raw?.remotePort };
}

export async function listenTls(addr: TlsAddr, ctx: TlsContext | undefined, onConnection: ConnectionHandler, o: TlsListenOptions = {}): Promise<Listener> {
  if (!ctx?.cert || !ctx.key)
    throw new TransportError('QLOG_ERR_TRANSPORT_LISTEN', { uri: addr.uri, reason: 'a tls:// listener needs tls.crt_file and tls.key_file' });
  const handshakeTimeoutMs = o.handshakeTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const server = tls.createServer({
    ca: ctx.ca,
    cert: ctx.cert,
    key: ctx.key,
    minVersion: ctx.minVersion,
    requestCert: ctx.requireClientCert,
    rejectUnauthorized: false,
    handshakeTimeout: handshakeTimeoutMs,
  });
  const destroyAll = trackConnections(server);
  /** The URI messages name: the bound one once listening (a port 0 becomes the real port). */
  let where = addr.uri;
  const peerOf = (sock: tls.TLSSocket): PeerIdentity => {
    const r = remote(sock);
    return { transport: 'tls', address: r.address, port: r.port, label: `tls:${fmtHost(r.address)}:${r.port ?? '?'}` };
  };
  server.on('connection', (raw: Socket) => {
    raw.setNoDelay(true);
    void raw.remoteAddress; // cached now: a failed handshake's message still names the peer
  });
  server.on('secureConnection', (sock: tls.TLSSocket) => {
    const base = peerOf(sock);
    if (ctx.requireClientCert && !sock.authorized) {
      const err = certError(String(sock.authorizationError ?? 'UNKNOWN'), peerCert(sock), 'client', {
        uri: where,
        peer: base.label,
        ca: ctx.caLabel,
        host: '',
      });
      sock.destroy();
      return o.onRefused?.(base, err);
    }
    onConnection(sock, identity(sock, base, ctx.requireClientCert));
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, sock: tls.TLSSocket) => {
    const peer = peerOf(sock);
    o.onRefused?.(peer, serverError(err, peer.label, where, handshakeTimeoutMs));
  });
  await listenServer(server, { host: addr.host, port: addr.port }, addr.uri);
  server.on('error', (err) => o.onError?.(err));
  where = `tls://${fmtHost(addr.host)}:${(server.address() as AddressInfo).port}`;
  return {
    uri: where,
    async close() {
      destroyAll();
      await closeServer(server);
    },
  };
}
