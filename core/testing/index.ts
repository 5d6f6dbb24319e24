/**
 * qlog/testing: run one plugin instance in a real engine and see what it emitted, acked or
 * nacked, the way Fluent Bit tests a plugin between a lib input and a lib output.
 *
 *   import { createHarness } from 'qlog/testing';
 *   const h = await createHarness(plugin, { options: { mask: '***' } });
 *   const out = await h.filter(['password=hunter2']);   // filters
 *   const r = await h.flush(['a line']);                 // outputs: { acked, status, error, attempts }
 *   const recs = await h.collect({ count: 3 });          // inputs
 *   await h.stop();
 */
import { Engine } from '../engine/engine.js';
import type { InstanceBase } from '../engine/context.js';
import type { AnyPlugin, InputContext, Plugin, PluginKind } from '../plugin/define.js';
import type { Infer, OptionsSchema } from '../plugin/schema.js';
import { checkPlugin } from '../plugin/loader.js';
import { markdownTable, optionRows } from '../docs/options-table.js';
import { buildConfig, captureLogger, type ServiceOverrides } from './harness-config.js';
import { FilterHarness, OutputHarness, toRecord } from './harness.js';
import { InputHarness } from './harness-input.js';
import { makeLibInput, makeLibOutput, Sink } from './harness-lib.js';
import type { LogRecord } from '../record.js';

export { FilterHarness, OutputHarness, HarnessBase, toRecord } from './harness.js';
export { InputHarness } from './harness-input.js';
export type { FlushResult, HarnessError, RecordInput, StopResult } from './harness.js';
export type { LogEntry, ServiceOverrides } from './harness-config.js';
export { ConfigError, ConfigIssue, QlogError } from '../errors.js';

export interface HarnessOptions {
  /**
   * The instance's entry as in a config file, without `name`: the plugin's options and the
   * common ones (tag, match, alias, buffer_limit, retry_limit ...). Units as users write them
   * ("5s", "64KiB"). Invalid options reject with the ConfigError a user would get.
   */
  options?: Record<string, unknown>;
  /** service section overrides (grace, state_dir, hostname). */
  service?: ServiceOverrides;
  /** Directory relative paths resolve against (ctx.service.configDir). Default: process.cwd(). */
  configDir?: string;
  /** Environment for `${VAR}` interpolation in options (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Tag of the records filter()/flush() send (default "test"). */
  tag?: string;
  /** Level of the captured log in h.logs (default "info"). */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Also print the log to stderr (default false). */
  printLogs?: boolean;
  /** Inputs and filters: the harness output acks at once ("auto", default) or on h.ack() ("manual"). */
  ack?: 'auto' | 'manual';
  /** Inputs and filters: common options of the harness output, e.g. { buffer_limit: '4KiB' } to test backpressure. */
  output?: Record<string, unknown>;
  /** Filters: filter() rethrows an error of the chunk hook (default true). */
  throwOnError?: boolean;
  /** Limit for filter(), flush(), collect({ count }) and waitFor() in ms (default 5000). */
  timeout?: number;
  /** Run setup and start at once (default true); else call h.start(). */
  start?: boolean;
}

/** The harness type for a plugin kind. */
export type Harness<K extends PluginKind, O> = K extends 'input' ? InputHarness<O> : K extends 'filter' ? FilterHarness<O> : OutputHarness<O>;

/**
 * Check `plugin` like the loader does (brand, qlog range, schema), validate `options` like a
 * config entry, and run the instance in an engine: setup, then start. Call stop() when done.
 */
export async function createHarness<K extends PluginKind, S extends OptionsSchema>(
  plugin: Plugin<K, S>,
  opts: HarnessOptions = {},
): Promise<Harness<K, Infer<S>>> {
  const p = checkPlugin(plugin, (plugin as unknown as AnyPlugin | undefined)?.name ?? 'the plugin under test');
  const timeout = opts.timeout ?? 5000;
  const sink = new Sink(opts.ack === 'manual');
  let lib: InputContext<unknown> | undefined;
  const libs: AnyPlugin[] = [];
  if (p.kind !== 'input') libs.push(makeLibInput((ctx) => (lib = ctx)) as unknown as AnyPlugin);
  if (p.kind !== 'output') libs.push(makeLibOutput(sink) as unknown as AnyPlugin);
  const tag = opts.tag ?? 'test';
  // Outputs: a rejection ends the flush at once (tests ask for retries explicitly).
  const defaults = p.kind === 'output' ? { retry_limit: 0, retry_base: '10ms', retry_max: '100ms' } : {};
  const built = await buildConfig({
    plugin: p,
    libs,
    options: { ...defaults, ...opts.options },
    libInput: { tag },
    libOutput: { retry_base: '10ms', retry_max: '100ms', ...opts.output },
    service: opts.service ?? {},
    configDir: opts.configDir ?? process.cwd(),
    env: opts.env ?? process.env,
  });
  const { logger, logs } = captureLogger(opts.logLevel ?? 'info', opts.printLogs ?? false);
  const engine = new Engine(built.config, built.service, logger);
  const libCtx = () => {
    if (!lib) throw new Error('qlog/testing: the harness is not started (call h.start())');
    return lib;
  };
  let h: InputHarness<unknown> | FilterHarness<unknown> | OutputHarness<unknown>;
  if (p.kind === 'input') h = new InputHarness(engine, engine.inputs[0] as InstanceBase, logs, built.tempStateDir, timeout, sink);
  else if (p.kind === 'filter')
    h = new FilterHarness(engine, engine.filters[0] as InstanceBase, logs, built.tempStateDir, timeout, libCtx, sink, tag, opts.throwOnError ?? true);
  else h = new OutputHarness(engine, engine.outputs[0] as InstanceBase, logs, built.tempStateDir, timeout, libCtx, tag);
  if (opts.start !== false) {
    try {
      await h.start();
    } catch (e) {
      await h.stop({ grace: 100 }).catch(() => undefined);
      throw e;
    }
  }
  return h as Harness<K, Infer<S>>;
}

/** Make records for a test: lines, object bodies or partial records, all with `tag`. */
export function records(items: Parameters<typeof toRecord>[0][], tag = 'test'): LogRecord[] {
  return items.map((x) => toRecord(x, tag));
}

/** The markdown table of a plugin's own options (option, type, default, description), as in qlog's docs. */
export function optionsMarkdown<K extends PluginKind, S extends OptionsSchema>(plugin: Plugin<K, S>, opts: { common?: boolean } = {}): string {
  return markdownTable(optionRows(plugin as unknown as AnyPlugin, opts.common ?? false));
}

const BEGIN = '<!-- options -->';
const END = '<!-- /options -->';

/**
 * `readme` with the text between `<!-- options -->` and `<!-- /options -->` replaced by the
 * plugin's option table (a README test compares the two to catch drift).
 */
export function withOptionsTable<K extends PluginKind, S extends OptionsSchema>(readme: string, plugin: Plugin<K, S>): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END, a);
  if (a < 0 || b < 0) throw new Error(`the README has no "${BEGIN}" ... "${END}" section`);
  return `${readme.slice(0, a + BEGIN.length)}\n${optionsMarkdown(plugin)}${readme.slice(b)}`;
}
