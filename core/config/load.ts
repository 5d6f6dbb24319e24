/**
 * Config loading: YAML (Fluent Bit layout) -> env interpolation -> JSON Schema validation of the
 * service section and of every plugin entry -> a resolved, typed AgentConfig. Every problem is
 * collected (file:line:column) and thrown together as one ConfigError.
 */
import { dirname, resolve } from 'node:path';
import { ConfigError, type ConfigIssue, QlogError, didYouMean } from '../errors.js';
import type { AnyPlugin, PluginKind } from '../plugin/define.js';
import { loadPlugins } from '../plugin/loader.js';
import type { ParserSet } from '../parsers/registry.js';
import { checkParserRefs, loadParsers } from '../parsers/parser-config.js';
import { checkMultilineRefs, loadMultiline } from '../multiline/ml-config.js';
import type { MultilineSet } from '../multiline/ml-registry.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { COMMON_KEYS, entrySchema, serviceSchema, type ServiceOptions } from './common.js';
import { interpolate } from './env.js';
import { ConfigSource, describeFound, type KeyPath } from './source.js';
import { validateAt } from './validate.js';

export interface EntryConfig {
  readonly kind: PluginKind;
  readonly plugin: AnyPlugin;
  /** alias, or <name>.<index> (index counts entries of the same plugin name). */
  readonly id: string;
  /** Options common to the kind (match, tag, buffer_limit, retry_* ...), defaults applied. */
  readonly common: Record<string, unknown>;
  /** The plugin's own options, validated, defaults applied, units converted. */
  readonly options: Record<string, unknown>;
  readonly path: KeyPath;
}

export interface AgentConfig {
  readonly file: string;
  readonly dir: string;
  readonly service: ServiceOptions;
  readonly inputs: EntryConfig[];
  readonly filters: EntryConfig[];
  readonly outputs: EntryConfig[];
  /** Built-in parsers and the top-level `parsers:` list, compiled. */
  readonly parsers: ParserSet;
  /** Built-in multiline parsers and the top-level `multiline_parsers:` list, compiled. */
  readonly multiline: MultilineSet;
}

const TOP_KEYS = ['service', 'pipeline', 'parsers', 'multiline_parsers'] as const;

const SECTIONS = { inputs: 'input', filters: 'filter', outputs: 'output' } as const;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Load service.plugins into the registry (default true). */
  loadPlugins?: boolean;
  /** File name used in messages (default: the path given). */
  display?: string;
}

export async function loadConfig(file: string, registry: PluginRegistry, opts: LoadOptions = {}): Promise<AgentConfig> {
  return loadConfigFrom(ConfigSource.read(file, opts.display ?? file), resolve(dirname(file)), registry, opts);
}

/** A check's dotted key (`seal.recipients.2`) as a key path (numbers are list indices). */
function keyPath(key: string): (string | number)[] {
  return key.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

function isMapValue(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Top-level keys only a qlog config (config_qlog.toml, core/qlog-compat) has. */
const QLOG_MARKERS = ['monitor_items', 'workspace', 'port', 'server_logfile', 'client_logfile'] as const;

export async function loadConfigFrom(src: ConfigSource, dir: string, registry: PluginRegistry, opts: LoadOptions = {}): Promise<AgentConfig> {
  const issues: ConfigIssue[] = [];
  const env = opts.env ?? process.env;
  const root = src.data ?? {};
  if (!isMapValue(root))
    throw new ConfigError([src.issue('QLOG_ERR_CONFIG_TYPE', [], { expected: 'a map with "service" and "pipeline"', found: describeFound(root) })]);
  const qlogKeys = QLOG_MARKERS.filter((k) => k in root);
  if (qlogKeys.length && !('service' in root) && !('pipeline' in root)) {
    // One clear error instead of "unknown key" for each of qlog's keys.
    const keys = qlogKeys.map((k) => `"${k}"`).join(', ');
    throw new ConfigError([src.issue('QLOG_ERR_CONFIG_QLOG_FORMAT', [qlogKeys[0]!], { keys, file: src.file }, { key: true })]);
  }
  for (const key of Object.keys(root)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      issues.push(src.issue('QLOG_ERR_CONFIG_UNKNOWN_KEY', [key], { key, hint: didYouMean(key, [...TOP_KEYS]), allowed: TOP_KEYS.join(', ') }, { key: true }));
    }
  }

  const rawService = interpolate(root.service ?? {}, ['service'], src, issues, () => false, env);
  const service = (isMapValue(rawService) ? structuredClone(rawService) : rawService) as ServiceOptions;
  issues.push(...validateAt(serviceSchema, service, ['service'], src, rawService));

  if (opts.loadPlugins !== false && issues.length === 0 && service.plugins.length) {
    for (let i = 0; i < service.plugins.length; i++) {
      try {
        await loadPlugins([service.plugins[i]!], dir, registry);
      } catch (e) {
        if (!(e instanceof QlogError)) throw e;
        issues.push(src.issueOf(e, ['service', 'plugins', i]));
      }
    }
  }

  const parsers = loadParsers(root.parsers, src, issues, env);
  const multiline = loadMultiline(root.multiline_parsers, src, issues, env);

  const pipeline = root.pipeline ?? {};
  const result: Record<'inputs' | 'filters' | 'outputs', EntryConfig[]> = { inputs: [], filters: [], outputs: [] };
  if (!isMapValue(pipeline)) {
    issues.push(src.issue('QLOG_ERR_CONFIG_TYPE', ['pipeline'], { expected: 'a map with inputs, filters and outputs', found: describeFound(pipeline) }));
  } else {
    for (const key of Object.keys(pipeline)) {
      if (!(key in SECTIONS))
        issues.push(
          src.issue(
            'QLOG_ERR_CONFIG_UNKNOWN_KEY',
            ['pipeline', key],
            { key, hint: didYouMean(key, Object.keys(SECTIONS)), allowed: 'inputs, filters, outputs' },
            { key: true },
          ),
        );
    }
    const ids = new Set<string>();
    for (const [section, kind] of Object.entries(SECTIONS) as ['inputs' | 'filters' | 'outputs', PluginKind][]) {
      const list = pipeline[section] ?? [];
      if (!Array.isArray(list)) {
        issues.push(
          src.issue('QLOG_ERR_CONFIG_TYPE', ['pipeline', section], { expected: `a list of ${kind} entries (each "- name: ...")`, found: describeFound(list) }),
        );
        continue;
      }
      const perName = new Map<string, number>();
      list.forEach((raw: unknown, i: number) => {
        const path: KeyPath = ['pipeline', section, i];
        if (!isMapValue(raw)) {
          issues.push(src.issue('QLOG_ERR_CONFIG_TYPE', path, { expected: 'a map with at least "name"', found: describeFound(raw) }));
          return;
        }
        if (typeof raw.name !== 'string') {
          issues.push(
            src.issue('QLOG_ERR_CONFIG_REQUIRED/plugin-name', raw.name === undefined ? path : [...path, 'name'], {
              kind,
              available: registry.names(kind).join(', '),
            }),
          );
          return;
        }
        const plugin = registry.get(kind, raw.name);
        if (!plugin) {
          const available = registry.names(kind);
          issues.push(
            src.issue('QLOG_ERR_CONFIG_UNKNOWN_PLUGIN', [...path, 'name'], {
              kind,
              name: raw.name,
              hint: didYouMean(raw.name, available),
              available: available.join(', '),
            }),
          );
          return;
        }
        const props = plugin.schema.properties;
        const interpolated = interpolate(
          raw,
          path,
          src,
          issues,
          (p) => p.length === path.length + 1 && props[p[p.length - 1] as string]?.template === true,
          env,
        ) as Record<string, unknown>;
        const data = structuredClone(interpolated);
        const found = validateAt(entrySchema(kind, plugin.schema), data, path, src, interpolated);
        issues.push(...found);
        const common: Record<string, unknown> = {};
        const options: Record<string, unknown> = {};
        // A plugin may redeclare a common option to change its default (vsock-forward: workers);
        // the value then reaches both the core and the plugin.
        for (const [k, v] of Object.entries(data)) {
          const isCommon = COMMON_KEYS[kind].includes(k);
          if (isCommon) common[k] = v;
          if (!isCommon || k in props) options[k] = v;
        }
        if (!found.length) checkParserRefs(props, options, parsers, path, src, issues);
        if (!found.length) checkMultilineRefs(props, options, multiline, path, src, issues);
        if (!found.length && plugin.check) {
          const problem = plugin.check(options, { configDir: dir });
          if (problem) issues.push(src.issue('QLOG_ERR_CONFIG_VALUE/check', [...path, ...keyPath(problem.key)], { reason: problem.message }));
        }
        const n = perName.get(plugin.name) ?? 0;
        perName.set(plugin.name, n + 1);
        const id = typeof common.alias === 'string' ? common.alias : `${plugin.name}.${n}`;
        if (ids.has(id)) issues.push(src.issue('QLOG_ERR_CONFIG_DUPLICATE_ID', [...path, typeof common.alias === 'string' ? 'alias' : 'name'], { id }));
        ids.add(id);
        result[section].push({ kind, plugin, id, common, options, path });
      });
    }
  }
  if (issues.length) throw new ConfigError(issues.sort((a, b) => a.line - b.line || a.col - b.col));
  return { file: src.file, dir, service, ...result, parsers, multiline };
}
