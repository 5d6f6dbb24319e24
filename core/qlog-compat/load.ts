/**
 * Read and check a qlog config (YAML whatever its extension), translate it for a role, and load
 * the translation as a native config (so that migrate, monitor and receive-file share it).
 */
import { dirname, resolve } from 'node:path';
import { builtinRegistry } from '../builtins.js';
import { loadConfigFrom, type AgentConfig } from '../config/load.js';
import { ConfigSource, describeFound } from '../config/source.js';
import { validateAt } from '../config/validate.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { qlogSchema, type QlogConfig } from './schema.js';
import { translate, type TranslateOptions } from './translate.js';

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** qlog accepted TRACE/Info/...: compare in lower case (messages still show what was written). */
function normalise(raw: Record<string, unknown>): Record<string, unknown> {
  const data = structuredClone(raw);
  if (typeof data.log_level === 'string') data.log_level = data.log_level.toLowerCase();
  return data;
}

function crossChecks(q: QlogConfig, src: ConfigSource): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  const outputs = new Map<string, number>();
  q.monitor_items.forEach((item, i) => {
    const at = ['monitor_items', i];
    if (names.has(item.name)) issues.push(src.issue('QLOG_ERR_CONFIG_VALUE/item-name', [...at, 'name'], { name: item.name, other: names.get(item.name)! }));
    names.set(item.name, i);
    const out = item.outputfile.replace(/^(\.\/)+/, '');
    if (outputs.has(out))
      issues.push(src.issue('QLOG_ERR_CONFIG_VALUE/item-output', [...at, 'outputfile'], { file: item.outputfile, other: outputs.get(out)! }));
    outputs.set(out, i);
    if (item.outputfile.startsWith('/') || item.outputfile.split('/').includes('..'))
      issues.push(src.issue('QLOG_ERR_CONFIG_VALUE/output-outside', [...at, 'outputfile'], { found: describeFound(item.outputfile) }));
    if (out === q.client_logfile.replace(/^(\.\/)+/, ''))
      issues.push(src.issue('QLOG_ERR_CONFIG_VALUE/output-is-log', [...at, 'outputfile'], { file: item.outputfile }));
    if (item.monitor_type === 'file' && item.monitor_path === undefined) issues.push(src.issue('QLOG_ERR_CONFIG_REQUIRED/monitor-path', at, {}));
    if (item.monitor_internel !== undefined && item.monitor_interval !== undefined)
      issues.push(src.issue('QLOG_ERR_CONFIG_VALUE/two-intervals', [...at, 'monitor_interval'], {}, { key: true }));
    const ms = (item.monitor_internel ?? item.monitor_interval) as number | undefined;
    if (ms !== undefined && ms < 100)
      issues.push(src.issue('QLOG_ERR_CONFIG_VALUE/interval', [...at, item.monitor_internel !== undefined ? 'monitor_internel' : 'monitor_interval'], { ms }));
  });
  return issues;
}

/** Parse and validate a qlog config; every problem is thrown together as one ConfigError. */
export function parseQlogConfig(src: ConfigSource): QlogConfig {
  const raw = src.data ?? {};
  if (!isMap(raw))
    throw new ConfigError([
      src.issue('QLOG_ERR_CONFIG_TYPE', [], { expected: 'a qlog config (a map with port, workspace, monitor_items ...)', found: describeFound(raw) }),
    ]);
  const data = normalise(raw);
  const issues = validateAt(qlogSchema, data, [], src, raw);
  if (issues.length) throw new ConfigError(issues);
  const q = data as QlogConfig;
  const more = crossChecks(q, src);
  if (more.length) throw new ConfigError(more.sort((a, b) => a.line - b.line || a.col - b.col));
  return q;
}

export function readQlogConfig(file: string, display = file): QlogConfig {
  return parseQlogConfig(ConfigSource.read(file, display));
}

/**
 * The native config for a role. Problems found in the generated pipeline (e.g. a plugin option
 * the translation sets wrongly) are reported against the generated text, named after the source.
 */
export async function loadQlogConfig(
  file: string,
  o: Omit<TranslateOptions, 'source' | 'cwd'> & { display?: string; cwd?: string },
): Promise<{ config: AgentConfig; yaml: string; qlog: QlogConfig }> {
  const display = o.display ?? file;
  const qlog = readQlogConfig(file, display);
  const yaml = translate(qlog, { ...o, source: display, cwd: o.cwd ?? process.cwd() });
  const config = await loadConfigFrom(ConfigSource.parse(yaml, `${display} (translated for ${o.role})`), resolve(dirname(file)), builtinRegistry(), {
    loadPlugins: false,
  });
  return { config: { ...config, file: display }, yaml, qlog };
}
