/**
 * The Forward protocol v1 shared_key handshake. The receiver (server role, whoever opened the
 * connection) sends HELO with a nonce; the sender answers PING with its hostname, a salt and
 * sha512_hex(salt + hostname + nonce + shared_key); the receiver answers PONG with its own
 * hostname and sha512_hex(salt + its hostname + nonce + shared_key), so each side proves it
 * knows the key. Username/password authentication is not implemented (auth is always '').
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { packr } from './codec.js';

type Bytes = string | Uint8Array;

export function newNonce(): Buffer {
  return randomBytes(16);
}

export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

export function sharedKeyDigest(salt: Bytes, hostname: string, nonce: Bytes, key: string): string {
  return createHash('sha512').update(salt).update(hostname).update(nonce).update(key).digest('hex');
}

function sameDigest(a: unknown, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function isBytes(x: unknown): x is Bytes {
  return typeof x === 'string' || x instanceof Uint8Array;
}

export function encodeHelo(nonce: Buffer, keepalive = true): Buffer {
  return packr.pack(['HELO', { nonce, auth: '', keepalive }]);
}

export type Check<T> = ({ ok: true } & T) | { ok: false; reason: string };

export function parseHelo(msg: unknown): Check<{ nonce: Bytes; userAuth: boolean }> {
  if (!Array.isArray(msg) || msg[0] !== 'HELO' || msg.length !== 2) return { ok: false, reason: 'expected HELO from the receiver' };
  const o = msg[1] as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || !isBytes(o.nonce)) return { ok: false, reason: 'HELO without a nonce' };
  const auth = o.auth;
  return { ok: true, nonce: o.nonce, userAuth: isBytes(auth) && auth.length > 0 };
}

export function encodePing(hostname: string, salt: string, nonce: Bytes, key: string): Buffer {
  return packr.pack(['PING', hostname, salt, sharedKeyDigest(salt, hostname, nonce, key), '', '']);
}

/** Receiver side: check a PING against our nonce and key. */
export function checkPing(msg: unknown, nonce: Bytes, key: string): Check<{ hostname: string; salt: Bytes }> {
  if (!Array.isArray(msg) || msg[0] !== 'PING') return { ok: false, reason: 'expected PING (this receiver requires shared_key authentication)' };
  if (msg.length !== 6 || typeof msg[1] !== 'string' || !isBytes(msg[2]) || typeof msg[3] !== 'string') return { ok: false, reason: 'malformed PING' };
  const [, hostname, salt, digest] = msg as [string, string, Bytes, string];
  if (!sameDigest(digest, sharedKeyDigest(salt, hostname, nonce, key))) return { ok: false, reason: 'shared_key mismatch' };
  return { ok: true, hostname, salt };
}

export function encodePong(ok: boolean, reason: string, hostname: string, salt: Bytes, nonce: Bytes, key: string): Buffer {
  return packr.pack(['PONG', ok, reason, hostname, ok ? sharedKeyDigest(salt, hostname, nonce, key) : '']);
}

/**
 * Sender side: check the PONG (the receiver proves it knows the key too). Unlike Fluentd we do
 * not refuse a receiver with our own hostname: enclaves often all say "localhost".
 */
export function checkPong(msg: unknown, salt: string, nonce: Bytes, key: string): Check<{ hostname: string }> {
  if (!Array.isArray(msg) || msg[0] !== 'PONG' || msg.length !== 5) return { ok: false, reason: 'expected PONG from the receiver' };
  const [, authOk, reason, hostname, digest] = msg as [string, unknown, unknown, unknown, unknown];
  if (authOk !== true)
    return { ok: false, reason: `the receiver refused authentication: ${typeof reason === 'string' && reason ? reason : 'no reason given'}` };
  if (typeof hostname !== 'string') return { ok: false, reason: 'malformed PONG' };
  if (!sameDigest(digest, sharedKeyDigest(salt, hostname, nonce, key)))
    return { ok: false, reason: 'shared_key mismatch (the receiver does not know our key)' };
  return { ok: true, hostname };
}
