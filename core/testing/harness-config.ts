/**
 * The harness's pipeline config: the plugin under test between a library input and a library
 * output, written as the YAML a user would write and loaded by the real config loader, so
 * options are validated, defaulted and unit-converted exactly as in production.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import pino, { type Logger } from 'pino';
import { loadConfigFrom, type AgentConfig } from '../config/load.js';
import { ConfigSource } from '../config/source.js';
import { ConfigError, ConfigIssue } from '../errors.js';
import { PluginRegistry } from '../plugin/registry.js';
import type { AnyPlugin, ServiceInfo } from '../plugin/define.js';
import { LIB_INPUT, LIB_OUTPUT } from './harness-lib.js';
import { serviceInfoOf } from '../config/service-info.js';

export interface ServiceOverrides {
  /** service.grace: setup/start/stop time limit and drain time (default "5s", as in production). */
  grace?: string | number;
  /** service.state_dir; default: a fresh temporary directory, removed by stop(). */
  state_dir?: string;
  /** service.hostname (default os.hostname()). */
  hostname?: string;
}

export interface BuiltConfig {
  config: AgentConfig;
  service: ServiceInfo;
  /** The temporary state dir the harness made (removed on stop), if any. */
  tempStateDir?: string;
}

export interface ConfigInput {
  plugin: AnyPlugin;
  /** The library input and/or output the plugin runs between. */
  libs: AnyPlugin[];
  options: Record<string, unknown>;
  libInput: Record<string, unknown>;
  libOutput: Record<string, unknown>;
  service: ServiceOverrides;
  configDir: string;
  env: NodeJS.ProcessEnv;
}

const SECTION = { input: 'inputs', filter: 'filters', output: 'outputs' } as const;
const DISPLAY = '<harness>';

/**
 * Config issues about the plugin under test are reported as `options: key: message` (the YAML
 * the harness writes is not the user's file, so its line numbers mean nothing to them).
 */
function relocate(e: ConfigError, kind: keyof typeof SECTION): ConfigError {
  const prefix = `pipeline.${SECTION[kind]}[0]`;
  return new ConfigError(
    e.issues.map((i) => {
      const own = i.path === prefix || i.path.startsWith(`${prefix}.`);
      const path = own ? i.path.slice(prefix.length + 1) : i.path;
      return new ConfigIssue(i.code, i.message, own ? 'options' : DISPLAY, 0, 0, path);
    }),
  );
}

export async function buildConfig(input: ConfigInput): Promise<BuiltConfig> {
  const { plugin, options } = input;
  if ('name' in options) throw new TypeError('createHarness: options must not contain "name" (the harness sets it to the plugin\'s name)');
  const registry = new PluginRegistry();
  registry.add(plugin, 'under test');
  for (const lib of input.libs) registry.add(lib, 'qlog/testing');

  let tempStateDir: string | undefined;
  const service = { ...input.service };
  if (service.state_dir === undefined) {
    tempStateDir = mkdtempSync(join(tmpdir(), 'qlog-harness-'));
    service.state_dir = tempStateDir;
  }
  const entry = { name: plugin.name, ...options };
  const pipeline = {
    inputs: [plugin.kind === 'input' ? entry : { name: LIB_INPUT, ...input.libInput }],
    filters: plugin.kind === 'filter' ? [entry] : [],
    outputs: [plugin.kind === 'output' ? entry : { name: LIB_OUTPUT, ...input.libOutput }],
  };
  const src = ConfigSource.parse(stringify({ service, pipeline }), DISPLAY);
  let config: AgentConfig;
  try {
    config = await loadConfigFrom(src, resolve(input.configDir), registry, { loadPlugins: false, env: input.env, display: DISPLAY });
  } catch (e) {
    if (tempStateDir) rmSync(tempStateDir, { recursive: true, force: true });
    throw e instanceof ConfigError ? relocate(e, plugin.kind) : e;
  }
  const info = serviceInfoOf(config);
  return { config, service: info, tempStateDir };
}

/** One line of the captured agent log (pino JSON with the level as a label). */
export interface LogEntry {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  msg: string;
  /** Instance id (the plugin's child logger binds it). */
  plugin?: string;
  [key: string]: unknown;
}

export function captureLogger(level: string, print: boolean): { logger: Logger; logs: LogEntry[] } {
  const logs: LogEntry[] = [];
  const sink = {
    write(line: string): void {
      try {
        logs.push(JSON.parse(line) as LogEntry);
      } catch {
        /* pino writes one JSON document per line */
      }
      if (print) process.stderr.write(line);
    },
  };
  const logger = pino({ level, base: undefined, formatters: { level: (label) => ({ level: label }) } }, sink);
  return { logger, logs };
}
