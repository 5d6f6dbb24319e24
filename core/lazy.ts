/**
 * Modules loaded on first use. An idle enclave agent is measured in MiB (target: 50, of which
 * node itself takes 40): what a configuration never uses — gzip, the metrics server, log file
 * rotation, semver for third-party plugins — should cost it nothing.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** `lazyModule<typeof import('node:zlib')>('node:zlib')()` requires the module at the first call. */
export function lazyModule<T>(id: string): () => T {
  let m: T | undefined;
  return () => (m ??= require(id) as T);
}
