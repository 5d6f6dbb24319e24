/**
 * The Forward protocol v1 handshake (spec: "Handshake Messages"). The receiver (server role,
 * whoever opened the connection) sends HELO with a nonce and, when it has users, an auth salt;
 * the sender answers PING with its hostname, a salt, sha512_hex(salt + hostname + nonce +
 * shared_key) and, when auth is not empty, a username and sha512_hex(auth + username + password);
 * the receiver answers PONG with its own hostname and sha512_hex(salt + its hostname + nonce +
 * shared_key), so each side proves it knows the key.
 *
 * nonce, salt and auth are "str|bin binary string": whatever type carries them, they are hashed
 * as the raw bytes received (Fluent Bit sends 16 random bytes as a str), so the messages are read
 * with unpackRaw, never through a UTF-8 decoder.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { QlogError } from '../errors.js';
import { packr } from './codec-packr.js';

/** A user the receiver accepts (Fluentd `<user>`, Fluent Bit `security.users`). */
export interface ForwardUser {
  username: string;
  password: string;
}

/** What the receiver sent in HELO (and needs again to check PING). */
export interface Helo {
  nonce: Buffer;
  /** The user-auth salt; empty: no users, no username/password asked. */
  auth: Buffer;
}

/** The reasons a receiver gives in a refusing PONG (Fluentd's and Fluent Bit's words). */
export const PONG_KEY_MISMATCH = 'shared_key mismatch';
export const PONG_USER_MISMATCH = 'username/password mismatch';

export type Check<T> = ({ ok: true } & T) | { ok: false; error: QlogError; pongReason?: string };

const PONG_INVALID = 'invalid ping message';

type Bytes = Uint8Array | string;

export function sharedKeyDigest(salt: Bytes, hostname: Bytes, nonce: Bytes, key: string): string {
  return createHash('sha512').update(salt).update(hostname).update(nonce).update(key).digest('hex');
}

export function passwordDigest(auth: Bytes, username: Bytes, password: string): string {
  return createHash('sha512').update(auth).update(username).update(password).digest('hex');
}

function sameDigest(a: unknown, b: string): boolean {
  if (!Buffer.isBuffer(a) || a.length !== b.length) return false;
  return timingSafeEqual(a, Buffer.from(b));
}

function describe(msg: unknown): string {
  if (Array.isArray(msg))
    return Buffer.isBuffer(msg[0]) && msg[0].length <= 16 ? `"${msg[0].toString('latin1')}" (an array of ${msg.length})` : `an array of ${msg.length}`;
  if (msg === null) return 'nil';
  return Buffer.isBuffer(msg) ? 'a string' : typeof msg === 'object' ? 'a map' : typeof msg;
}

function isType(x: unknown, t: string): boolean {
  return Buffer.isBuffer(x) && x.length === t.length && x.toString('latin1') === t;
}

const text = (b: Buffer): string => b.toString('utf8');

// ---------------------------------------------------------------- receiver (server role)

/** A fresh nonce, and an auth salt when there are users. */
export function newHelo(withUsers: boolean): Helo {
  return { nonce: randomBytes(16), auth: withUsers ? randomBytes(16) : Buffer.alloc(0) };
}

export function encodeHelo(h: Helo, keepalive = true): Buffer {
  return packr.pack(['HELO', { nonce: h.nonce, auth: h.auth.length ? h.auth : '', keepalive }]);
}

/**
 * Check a PING (decoded with unpackRaw) against our HELO, key and users: the key first, then the
 * user, as Fluentd and Fluent Bit do. A failure carries the error to log and the reason to put in
 * the refusing PONG (none for a message that is not a PING at all).
 */
export function checkPing(msg: unknown, helo: Helo, key: string, users: readonly ForwardUser[]): Check<{ hostname: string; salt: Buffer }> {
  if (!Array.isArray(msg) || !isType(msg[0], 'PING'))
    return { ok: false, error: new QlogError('QLOG_ERR_FORWARD_HANDSHAKE', { found: describe(msg) }), pongReason: PONG_INVALID };
  const malformed = (reason: string): Check<never> => ({
    ok: false,
    error: new QlogError('QLOG_ERR_FORWARD_HANDSHAKE/ping', { reason }),
    pongReason: PONG_INVALID,
  });
  if (msg.length !== 6) return malformed(`expected 6 elements, found ${msg.length}`);
  const [, host, salt, digest, username, pwDigest] = msg as unknown[];
  if (!Buffer.isBuffer(host)) return malformed('the hostname is not a string');
  if (!Buffer.isBuffer(salt)) return malformed('the shared_key salt is not a str or bin');
  const hostname = text(host);
  if (!sameDigest(digest, sharedKeyDigest(salt, host, helo.nonce, key)))
    return { ok: false, error: new QlogError('QLOG_ERR_FORWARD_AUTH', { hostname }), pongReason: PONG_KEY_MISMATCH };
  if (users.length > 0) {
    const refuse = (error: QlogError): Check<never> => ({ ok: false, error, pongReason: PONG_USER_MISMATCH });
    if (!Buffer.isBuffer(username) || username.length === 0) return refuse(new QlogError('QLOG_ERR_FORWARD_AUTH/no-username', { hostname }));
    const name = text(username);
    const candidates = users.filter((u) => u.username === name);
    if (candidates.length === 0) return refuse(new QlogError('QLOG_ERR_FORWARD_AUTH/unknown-user', { hostname, username: name }));
    if (!candidates.some((u) => sameDigest(pwDigest, passwordDigest(helo.auth, username, u.password))))
      return refuse(new QlogError('QLOG_ERR_FORWARD_AUTH/password', { hostname, username: name }));
  }
  return { ok: true, hostname, salt };
}

/** PONG: accepted (with our proof of the key), or refused with `reason`. */
export function encodePong(accepted: { hostname: string; salt: Buffer; nonce: Buffer; key: string } | { refused: string }): Buffer {
  if ('refused' in accepted) return packr.pack(['PONG', false, accepted.refused, '', '']);
  const { hostname, salt, nonce, key } = accepted;
  return packr.pack(['PONG', true, '', hostname, sharedKeyDigest(salt, hostname, nonce, key)]);
}

// ---------------------------------------------------------------- sender (client role)

export interface Credentials {
  key: string;
  username?: string;
  password?: string;
}

/** HELO (decoded with unpackRaw): the nonce and auth salt as bytes. */
export function parseHelo(msg: unknown): Check<{ helo: Helo }> {
  if (!Array.isArray(msg) || msg.length !== 2 || !isType(msg[0], 'HELO'))
    return { ok: false, error: new QlogError('QLOG_ERR_FORWARD_HANDSHAKE/helo', { found: describe(msg) }) };
  const o = msg[1] as Record<string, unknown> | null;
  const nonce = typeof o === 'object' && o !== null ? o.nonce : undefined;
  if (!Buffer.isBuffer(nonce)) return { ok: false, error: new QlogError('QLOG_ERR_FORWARD_HANDSHAKE/helo-nonce') };
  const auth = o!.auth;
  // Copies: the HELO's frame memory is reused for the next frame.
  return { ok: true, helo: { nonce: Buffer.from(nonce), auth: Buffer.isBuffer(auth) ? Buffer.from(auth) : Buffer.alloc(0) } };
}

/** A salt for PING: 32 hex characters, a str every receiver reads (Fluent Bit requires a str). */
export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

/**
 * PING. When the receiver sent an auth salt, the username and password digest go with it, empty
 * credentials included (as Fluent Bit's and Fluentd's clients do: a receiver without users
 * ignores them).
 */
export function encodePing(hostname: string, salt: string, helo: Helo, c: Credentials): Buffer {
  const username = c.username ?? '';
  const user = helo.auth.length ? [username, passwordDigest(helo.auth, username, c.password ?? '')] : ['', ''];
  return packr.pack(['PING', hostname, salt, sharedKeyDigest(salt, hostname, helo.nonce, c.key), ...user]);
}

/**
 * Check the PONG (decoded with unpackRaw): the receiver proves it knows the key too. Unlike
 * Fluentd we do not refuse a receiver with our own hostname: enclaves often all say "localhost".
 */
export function checkPong(msg: unknown, salt: string, helo: Helo, c: Credentials): Check<{ hostname: string }> {
  if (!Array.isArray(msg) || !isType(msg[0], 'PONG'))
    return { ok: false, error: new QlogError('QLOG_ERR_FORWARD_HANDSHAKE/pong', { reason: `expected PONG, found ${describe(msg)}` }) };
  if (msg.length !== 5) return { ok: false, error: new QlogError('QLOG_ERR_FORWARD_HANDSHAKE/pong', { reason: `expected 5 elements, found ${msg.length}` }) };
  const [, authOk, reason, host, digest] = msg as unknown[];
  if (authOk !== true) {
    const why = Buffer.isBuffer(reason) ? text(reason) : '';
    if (why === PONG_KEY_MISMATCH) return { ok: false, error: new QlogError('QLOG_ERR_FORWARD_AUTH/refused-key') };
    if (why === PONG_USER_MISMATCH)
      return {
        ok: false,
        error: c.username
          ? new QlogError('QLOG_ERR_FORWARD_AUTH/refused-user', { username: c.username })
          : new QlogError('QLOG_ERR_FORWARD_AUTH/refused-no-user'),
      };
    return { ok: false, error: new QlogError('QLOG_ERR_FORWARD_AUTH/refused', { reason: why || 'no reason given' }) };
  }
  if (!Buffer.isBuffer(host)) return { ok: false, error: new QlogError('QLOG_ERR_FORWARD_HANDSHAKE/pong', { reason: 'the hostname is not a string' }) };
  if (!sameDigest(digest, sharedKeyDigest(salt, host, helo.nonce, c.key))) return { ok: false, error: new QlogError('QLOG_ERR_FORWARD_AUTH/pong-key') };
  return { ok: true, hostname: text(host) };
}
