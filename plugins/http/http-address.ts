/**
 * An https:// url as the tls:// address of core/transport: the shared `tls` checks and the TLS
 * connections (core/transport/tls.ts) take it, and their messages name the url's origin.
 */
import { parseAddress, type TlsAddr } from '../../core/transport/index.js';

export function httpsAddress(url: URL): TlsAddr {
  const a = parseAddress(`tls://${url.hostname}:${url.port || 443}`) as TlsAddr;
  return { ...a, uri: url.origin };
}
