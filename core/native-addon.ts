/**
 * The qlog native addon (native/, built at install): AF_VSOCK sockets for
 * core/transport/vsock-native.ts and memory give-back for core/memory.ts. Loaded once, on first
 * use; a missing or unloadable addon is a reason string, never an exception.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Addon = { binding: object } | { error: string };

let loaded: Addon | undefined;

function nativeDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'native', 'binding.gyp'))) return join(dir, 'native');
    dir = dirname(dir);
  }
  throw new Error('the native/ directory of the qlog package was not found');
}

/** The addon's exports, or why it cannot be used (QLOG_VSOCK_ADDON=off or =/path/to/addon.node override). */
export function loadAddon(): Addon {
  if (loaded) return loaded;
  const override = process.env.QLOG_VSOCK_ADDON;
  try {
    if (override === 'off') throw new Error('disabled by QLOG_VSOCK_ADDON=off');
    const require = createRequire(import.meta.url);
    const binding = (override ? require(override) : (require('node-gyp-build') as (dir: string) => unknown)(nativeDir())) as object;
    loaded = { binding };
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    // The reason only: users of the addon turn it into their error (QLOG_ERR_VSOCK_UNAVAILABLE).
    loaded = { error: why ?? '' };
  }
  return loaded;
}

/**
 * The addon's export `name` when it is a function, else undefined (no addon, or one built before
 * that function was added). `F` is the caller's word for its signature (native/*.cc).
 */
export function addonFunction<F extends (...args: never[]) => unknown>(name: string): F | undefined {
  const a = loadAddon();
  const f = 'error' in a ? undefined : (a.binding as Record<string, unknown>)[name];
  return typeof f === 'function' ? (f as F) : undefined;
}
