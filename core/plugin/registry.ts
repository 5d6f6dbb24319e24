/** The set of plugins known to one agent: built-ins plus those loaded from service.plugins. */
import { QlogError } from '../errors.js';
import type { AnyPlugin, PluginKind } from './define.js';

export class PluginRegistry {
  private readonly byKey = new Map<string, { plugin: AnyPlugin; origin: string }>();

  add(plugin: AnyPlugin, origin: string): void {
    const key = `${plugin.kind}:${plugin.name}`;
    const prev = this.byKey.get(key);
    if (prev) throw new QlogError('QLOG_ERR_PLUGIN_NAME_CLASH', { name: plugin.name, spec: origin, other: prev.origin });
    this.byKey.set(key, { plugin, origin });
  }

  get(kind: PluginKind, name: string): AnyPlugin | undefined {
    return this.byKey.get(`${kind}:${name}`)?.plugin;
  }

  origin(plugin: AnyPlugin): string {
    return this.byKey.get(`${plugin.kind}:${plugin.name}`)?.origin ?? 'unknown';
  }

  names(kind?: PluginKind): string[] {
    return this.list(kind).map((p) => p.name);
  }

  list(kind?: PluginKind): AnyPlugin[] {
    const order: Record<PluginKind, number> = { input: 0, filter: 1, output: 2 };
    return [...this.byKey.values()]
      .map((v) => v.plugin)
      .filter((p) => !kind || p.kind === kind)
      .sort((a, b) => order[a.kind] - order[b.kind] || a.name.localeCompare(b.name));
  }
}
