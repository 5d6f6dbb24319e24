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

/** What a failed connect means for the user: refused credentials, or a server that cannot be reached. */
export function connectError(e: unknown, servers: string): QlogError {
  if (e instanceof QlogError) return e;
  const err = e as Error;
  const name = err?.name ?? '';
  if (name === 'AuthorizationError' || name === 'UserAuthenticationExpiredError' || /authori[sz]ation|authentication/i.test(err?.message ?? '')) {
    return new QlogError('QLOG_ERR_NATS_AUTH', { servers, reason: err.message }, { cause: e });
  }
  return new QlogError('QLOG_ERR_NATS_UNREACHABLE', { servers, reason: err?.message ?? String(e) }, { cause: e });
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
