// Shared bits of the native addon tests.
import { readdirSync } from 'node:fs';
import type { Duplex, Readable } from 'node:stream';
import { vsockAvailable } from '../../core/transport/vsock-native.js';

/**
 * Why the addon tests must be skipped, or undefined. Only off Linux: on Linux a missing
 * addon is a broken build and the tests must fail, not skip.
 */
export function addonSkipReason(): string | undefined {
  return process.platform === 'linux' ? undefined : `the vsock addon is Linux-only (this is ${process.platform})`;
}

/** Why tests that need /dev/vsock must be skipped (no vsock device here), or undefined. */
export function vsockSkipReason(): string | undefined {
  const skip = addonSkipReason();
  if (skip) return skip;
  const a = vsockAvailable();
  if (a.ok || a.reason.startsWith('the qlog vsock addon could not be loaded')) return undefined;
  return a.reason;
}

/** A random port well above the privileged range, unlikely to clash with other tests. */
export function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 40000);
}

/** Open file descriptors of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Everything a stream emits until 'end' (unlike for-await, leaves the stream open). */
export function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('error', reject);
  });
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once the stream has emitted 'close' (also if that already happened). */
export function closed(stream: Duplex): Promise<void> {
  return stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', () => resolve()));
}
