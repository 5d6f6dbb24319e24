/**
 * Running the Engine in-process on a YAML config with extra test plugins (no CLI, no signals).
 *
 *   const slow = definePlugin({ kind: 'output', name: 'slow', ... });
 *   const h = await startEngine(t, `pipeline: { inputs: [...], outputs: [{ name: slow }] }`, [slow]);
 *   ... h.engine.metrics(), h.logs ...
 *   await h.stop();   // also registered with t.after, so a failing test still stops it
 *
 * The engine's pino log is captured as parsed objects in `logs` (level debug).
 */
import pino, { type Logger } from 'pino';
import { builtinRegistry } from '../../core/builtins.js';
import { ConfigSource } from '../../core/config/source.js';
import { loadConfigFrom, type AgentConfig } from '../../core/config/load.js';
import { ConfigError } from '../../core/errors.js';
import { Engine } from '../../core/engine/engine.js';
import type { AnyPlugin, ServiceInfo } from '../../core/plugin/define.js';
import type { PluginRegistry } from '../../core/plugin/registry.js';
import { VERSION } from '../../core/version.js';
import { tempDir, type HasAfter } from './tmp.js';

/** The built-in plugins plus `extra` (origin "test"). */
export function testRegistry(extra: AnyPlugin[] = []): PluginRegistry {
  const r = builtinRegistry();
  for (const p of extra) r.add(p, 'test');
  return r;
}

/** Validate a YAML config text (file name "test.yaml" in messages); throws ConfigError like the CLI. */
export function configFrom(yaml: string, extra: AnyPlugin[] = [], env: NodeJS.ProcessEnv = {}, dir = process.cwd()): Promise<AgentConfig> {
  return loadConfigFrom(ConfigSource.parse(yaml.replace(/^\n/, ''), 'test.yaml'), dir, testRegistry(extra), { env, loadPlugins: false });
}

/** A pino logger whose JSON lines are parsed into `logs`. */
/** The issues a config's YAML gives, as `line:col key.path: message` (empty when it loads). */
export async function configIssues(yaml: string): Promise<string[]> {
  try {
    await configFrom(yaml);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

export function captureLogger(level = 'debug'): { logger: Logger; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level, base: undefined }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, logs };
}

export interface EngineHarness {
  engine: Engine;
  config: AgentConfig;
  logs: Record<string, unknown>[];
  /** Graceful stop (idempotent); resolves with the number of records left undelivered. */
  stop(graceMs?: number): Promise<number>;
}

/** Load `yaml` with `extra` plugins, then setup + start an Engine; stopped after the test at the latest. */
export async function startEngine(owner: HasAfter, yaml: string, extra: AnyPlugin[] = [], opts: { graceMs?: number } = {}): Promise<EngineHarness> {
  const config = await configFrom(yaml, extra);
  const { logger, logs } = captureLogger();
  const service: ServiceInfo = Object.freeze({
    version: VERSION,
    hostname: 'test-host',
    stateDir: tempDir(owner),
    configDir: process.cwd(),
    graceMs: opts.graceMs ?? 2000,
  });
  const engine = new Engine(config, service, logger);
  await engine.setup();
  await engine.start();
  let stopping: Promise<number> | undefined;
  const stop = (graceMs?: number) => (stopping ??= engine.stop(graceMs));
  owner.after(() => stop(100).then(() => undefined));
  return { engine, config, logs, stop };
}
