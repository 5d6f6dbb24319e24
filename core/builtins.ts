import * as builtins from '../plugins/index.js';
import type { AnyPlugin } from './plugin/define.js';
import { PluginRegistry } from './plugin/registry.js';

/** A registry holding the built-in plugins (a fresh one per config load, so reloads see new npm plugins). */
export function builtinRegistry(): PluginRegistry {
  const r = new PluginRegistry();
  for (const p of Object.values(builtins) as AnyPlugin[]) r.add(p, 'built-in');
  return r;
}
