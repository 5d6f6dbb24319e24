/**
 * The `tls` option map: one schema for every plugin that takes an address (vsock, vsock-forward,
 * and later http, nats), its cross-field check, and certificate subjects as allowed_* rules match
 * them. Nothing here loads node:tls: plugins import the schema at startup, and agents without a
 * tls:// address never pay for TLS (the files are read in tls-files.ts, the sockets in tls.ts).
 */
import type { Infer } from '../plugin/schema.js';
import type { Address } from './address.js';

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;

export const tlsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    'TLS settings of a tls://host:port address (listen or connect; an error with any other address). Files are PEM, relative paths resolve against the config file directory, and they are read again on every reload (SIGHUP).',
  properties: {
    ca_file: {
      type: 'string',
      default: '',
      description:
        "CA certificate(s) the peer's certificate must be signed by. connect: empty = the system CAs. listen: given = mutual TLS, every client must present a certificate signed by one of these CAs (its subject becomes meta.subject); empty = no client certificate asked for.",
    },
    crt_file: {
      type: 'string',
      default: '',
      description: 'Certificate (chain) presented to the peer: required to listen; in connect mode, the client certificate for a listener that requires one.',
    },
    key_file: { type: 'string', default: '', description: 'Private key of crt_file (unencrypted PEM).' },
    verify: {
      type: 'boolean',
      default: true,
      description:
        "Check the peer's certificate (CA, validity dates, and in connect mode the host name). false: accept any certificate (testing only: anyone in the middle can read the link); not with ca_file on a listener.",
    },
    server_name: {
      type: 'string',
      default: '',
      description: "connect: the name sent in SNI and checked against the server's certificate. Empty: the host of the address.",
    },
    min_version: { type: 'string', enum: TLS_VERSIONS, default: 'TLSv1.2', description: 'Oldest TLS version accepted.' },
  },
} as const;

export type TlsOptions = Infer<typeof tlsSchema>;

/** The defaults (what an absent `tls` map means). */
export const TLS_DEFAULTS: TlsOptions = Object.freeze({ ca_file: '', crt_file: '', key_file: '', verify: true, server_name: '', min_version: 'TLSv1.2' });

/** Whether a `tls` map sets anything (an absent or default map does not ask for TLS). */
export function tlsGiven(o: TlsOptions): boolean {
  return !!(o.ca_file || o.crt_file || o.key_file || o.server_name) || o.verify === false || o.min_version !== TLS_DEFAULTS.min_version;
}

/** Cross-field check of a `tls` map against the address it goes with (no file is read here). */
export function checkTls(o: TlsOptions | undefined, mode: 'connect' | 'listen', addr: Address): { key: string; message: string } | undefined {
  const t = o ?? TLS_DEFAULTS;
  if (addr.transport !== 'tls') {
    if (!tlsGiven(t)) return undefined;
    const host = addr.transport === 'tcp' ? `tls://${addr.uri.slice('tcp://'.length)}` : 'tls://HOST:PORT';
    return { key: 'tls', message: `expected a tls:// address with the tls options, found ${addr.uri} (write ${host}, or remove tls)` };
  }
  if (!t.crt_file !== !t.key_file)
    return {
      key: 'tls',
      message: `expected tls.crt_file and tls.key_file together (a certificate and its private key), found only ${t.crt_file ? 'crt_file' : 'key_file'}`,
    };
  if (mode === 'listen') {
    if (!t.crt_file) return { key: 'tls', message: `expected tls.crt_file and tls.key_file (the certificate ${addr.uri} presents to clients), found neither` };
    if (t.ca_file && !t.verify)
      return {
        key: 'tls',
        message:
          'expected verify: true with tls.ca_file on a listener (ca_file asks clients for certificates; verify: false would accept any): remove one of them',
      };
    if (t.server_name) return { key: 'tls', message: 'expected no tls.server_name on a listener (it is the name a connecting side checks in the certificate)' };
  }
  return undefined;
}

/**
 * `CN=enclave-1,O=Acme` as attribute/value pairs. Commas and other special characters inside a
 * value are backslash-escaped (RFC 4514), as OpenSSL writes them.
 */
export function subjectPairs(subject: string): [string, string][] {
  const out: [string, string][] = [];
  let cur = '';
  const flush = (): void => {
    const eq = cur.indexOf('=');
    if (eq > 0) out.push([cur.slice(0, eq).trim().toUpperCase(), cur.slice(eq + 1).trim()]);
    cur = '';
  };
  for (let i = 0; i < subject.length; i++) {
    const c = subject[i]!;
    if (c === '\\' && i + 1 < subject.length) cur += c + subject[++i];
    else if (c === ',') flush();
    else cur += c;
  }
  flush();
  return out;
}

/**
 * Whether a certificate subject matches an allowed_subjects entry: every attribute the entry names
 * has that value in the subject (`CN=enclave-1` matches `CN=enclave-1,O=Acme`; order is free).
 */
export function subjectMatches(subject: string, entry: string): boolean {
  const have = subjectPairs(subject);
  const want = subjectPairs(entry);
  return want.length > 0 && want.every(([k, v]) => have.some(([hk, hv]) => hk === k && hv === v));
}
