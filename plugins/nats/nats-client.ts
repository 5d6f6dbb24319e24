/**
 * The NATS client, loaded on first use only (~12 MB of memory and ~80 ms to load: an agent
 * without a nats output never pays for it), the connection options the plugin's options make,
 * and the stream check at start. Errors the user sees are mapped to QLOG_ERR_NATS_* here.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import { QlogError } from '../../core/errors.js';
import { lazyModule } from '../../core/lazy.js';
import { checkTls, tlsGiven, type TlsAddr, type TlsOptions, type TransportError } from '../../core/transport/index.js';

export const natsClient = lazyModule<typeof import('@nats-io/transport-node')>('@nats-io/transport-node');
const jetStreamClient = lazyModule<typeof import('@nats-io/jetstream')>('@nats-io/jetstream');

export interface AuthOptions {
  user: string;
  password: string;
  token: string;
  creds_file: string;
  nkey_file: string;
}

/** The credentials options that do not go together, or undefined. */
export function checkAuth(o: AuthOptions): { key: string; message: string } | undefined {
  if (o.user && !o.password) return { key: 'password', message: 'user needs a password' };
  if (o.password && !o.user) return { key: 'user', message: 'password needs a user' };
  const kinds = [o.user && 'user/password', o.token && 'token', o.creds_file && 'creds_file', o.nkey_file && 'nkey_file'].filter(Boolean);
  if (kinds.length > 1) return { key: o.token ? 'token' : 'nkey_file', message: `give one way to authenticate, found ${kinds.join(' and ')}` };
  return undefined;
}

function readSecret(option: string, file: string, configDir: string): Uint8Array {
  const path = resolve(configDir, file);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new QlogError('QLOG_ERR_NATS_AUTH/file', { option, file: path, reason: (e as Error).message });
  }
}

/** Connection options for the credentials given (files are read now: at start, not at setup). */
export function authConnectionOptions(o: AuthOptions, configDir: string): Partial<ConnectionOptions> {
  if (o.user) return { user: o.user, pass: o.password };
  if (o.token) return { token: o.token };
  if (o.creds_file) return { authenticator: natsClient().credsAuthenticator(readSecret('creds_file', o.creds_file, configDir)) };
  if (o.nkey_file) {
    const seed = new TextDecoder().decode(readSecret('nkey_file', o.nkey_file, configDir)).trim();
    return { authenticator: natsClient().nkeyAuthenticator(new TextEncoder().encode(seed)) };
  }
  return {};
}

/** TLS is on with tls:// servers, or nats:// ones and a `tls` map that sets anything. */
export function wantsTls(servers: readonly string[], tls: TlsOptions): boolean {
  return servers.some((s) => s.startsWith('tls://')) || tlsGiven(tls);
}

/** The shared `tls` checks, and servers of one kind (TLS is for every server of the list or none). */
export function checkServersTls(servers: readonly string[], tls: TlsOptions): { key: string; message: string } | undefined {
  const tlsServers = servers.filter((s) => s.startsWith('tls://'));
  if (tlsServers.length && tlsServers.length < servers.length)
    return { key: 'servers', message: `expected all servers nats:// or all tls://, found ${servers.join(', ')} (TLS is on for every server or none)` };
  if (!wantsTls(servers, tls)) return undefined;
  const first: TlsAddr = { transport: 'tls', host: '', port: 0, uri: servers[0]! };
  return checkTls(tls, 'connect', first);
}

/** The client's tls options: handed to node:tls as they are (the client merges them into its tls.connect). */
type ClientTls = NonNullable<ConnectionOptions['tls']> & Pick<import('node:tls').ConnectionOptions, 'rejectUnauthorized' | 'servername' | 'minVersion'>;

/**
 * The connection's TLS options, the files read now (at each new connection: a reload reads them
 * again; a read that fails after a good one keeps the good one and calls `onStale`).
 */
export async function tlsConnectionOptions(
  servers: readonly string[],
  tls: TlsOptions,
  configDir: string,
  onStale: (e: TransportError) => void,
): Promise<Partial<ConnectionOptions>> {
  if (!wantsTls(servers, tls)) return {};
  const { loadTlsFiles } = await import('../../core/transport/tls-files.js');
  const { context: c, stale } = loadTlsFiles(tls, 'connect', configDir);
  if (stale) onStale(stale);
  const options: ClientTls = {
    ca: c.ca?.toString('utf8'),
    cert: c.cert?.toString('utf8'),
    key: c.key?.toString('utf8'),
    rejectUnauthorized: c.verify,
    minVersion: c.minVersion,
    ...(c.serverName && { servername: c.serverName }),
  };
  return { tls: options };
}

/** What the messages of a TLS connection name: where the trusted CAs come from, and whether we send a certificate. */
export interface TlsHint {
  caLabel: string;
  clientCert: boolean;
}

export function tlsHint(servers: readonly string[], tls: TlsOptions, configDir: string): TlsHint | undefined {
  if (!wantsTls(servers, tls)) return undefined;
  return { caLabel: tls.ca_file ? `tls.ca_file ${resolve(configDir, tls.ca_file)}` : 'the system CAs', clientCert: !!tls.crt_file };
}

/** Node's reason for a TLS failure, said in terms of the `tls` options (undefined: not a TLS failure). */
function tlsReason(err: NodeJS.ErrnoException, tls: TlsHint): string | undefined {
  const code = err.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `TLS: ${err.message}; connect by a name the certificate carries or set tls.server_name`;
  if (/CERT|ISSUER|SIGNATURE|SELF_SIGNED/.test(code) && !code.startsWith('ERR_SSL'))
    return `TLS: the server's certificate is not trusted: ${err.message} (${code}); expected one signed by a CA in ${tls.caLabel}`;
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return `TLS handshake failed: ${err.message}`;
  // With TLS 1.3 a server that requires a client certificate refuses it after our side finished
  // the handshake; the client then sees only a connection that never answers.
  if (!tls.clientCert && /timeout/i.test(err.message))
    return `${err.message} (over TLS: if the server verifies clients (tlsverify), set tls.crt_file and tls.key_file)`;
  return undefined;
}

/** What a failed connect means for the user: refused credentials, a TLS failure, or a server that cannot be reached. */
export function connectError(e: unknown, servers: string, tls?: TlsHint): QlogError {
  if (e instanceof QlogError) return e;
  const err = e as NodeJS.ErrnoException;
  const name = err?.name ?? '';
  if (name === 'AuthorizationError' || name === 'UserAuthenticationExpiredError' || /authori[sz]ation|authentication/i.test(err?.message ?? '')) {
    return new QlogError('QLOG_ERR_NATS_AUTH', { servers, reason: err.message }, { cause: e });
  }
  // The client wraps some socket errors (ConnectionError), node's code is on the cause then.
  const cause = err?.cause as NodeJS.ErrnoException | undefined;
  const reason = (tls && err && tlsReason(cause?.code ? cause : err, tls)) ?? err?.message ?? String(e);
  return new QlogError('QLOG_ERR_NATS_UNREACHABLE', { servers, reason }, { cause: e });
}

/**
 * The subjects a created stream gets: the template itself when it has no placeholder, else its
 * literal prefix up to the first placeholder followed by `>` (`logs.${tag}` -> `logs.>`).
 * undefined when the prefix does not end a subject token (the stream cannot be derived).
 */
export function streamSubjects(template: string): string[] | undefined {
  const at = template.indexOf('${');
  if (at < 0) return [template];
  const prefix = template.slice(0, at);
  return prefix.endsWith('.') && prefix.length > 1 && !prefix.includes('$') ? [`${prefix}>`] : undefined;
}

/**
 * Check that `stream` exists; create it when missing and `create` is set. Throws
 * QLOG_ERR_NATS_STREAM_MISSING (the stream, or JetStream itself) otherwise.
 */
export async function ensureStream(
  nc: NatsConnection,
  stream: string,
  create: boolean,
  subjects: string[] | undefined,
  servers: string,
): Promise<'found' | 'created'> {
  const js = jetStreamClient();
  let jsm: Awaited<ReturnType<typeof js.jetstreamManager>>;
  try {
    jsm = await js.jetstreamManager(nc);
  } catch (e) {
    throw new QlogError('QLOG_ERR_NATS_STREAM_MISSING/jetstream', { servers, reason: (e as Error).message }, { cause: e });
  }
  try {
    await jsm.streams.info(stream);
    return 'found';
  } catch (e) {
    if ((e as Error).name !== 'StreamNotFoundError') throw e;
    if (!create || !subjects) {
      throw new QlogError('QLOG_ERR_NATS_STREAM_MISSING', { stream, servers, subjects: (subjects ?? ['logs.>']).join(',') }, { cause: e });
    }
  }
  await jsm.streams.add({ name: stream, subjects });
  return 'created';
}
