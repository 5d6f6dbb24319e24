/**
 * The plugin contract. Built-in plugins and npm plugins use exactly this API.
 *
 * A plugin is a branded descriptor made by `definePlugin`. The host validates the instance's
 * options against `schema`, then calls `setup(ctx)` once per configured instance; setup taps
 * the instance's hooks (and nothing taps later). Hooks fire per chunk, never per record.
 */
import type { AsyncParallelHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncHook } from 'tapable';
import type { Logger } from 'pino';
import type { ParserSet } from '../parsers/registry.js';
import type { MultilineSet } from '../multiline/ml-registry.js';
import type { Chunk, EntryBlock, LineBlock, LogRecord } from '../record.js';
import type { Infer, OptionsSchema } from './schema.js';

export type PluginKind = 'input' | 'filter' | 'output';

export const PLUGIN_BRAND: unique symbol = Symbol.for('qlog.plugin');

/** Per-instance counters. Core keeps the standard ones; plugins may add their own names. */
export interface Counters {
  /** Add n (default 1) to a counter, creating it at 0 first. */
  add(name: string, n?: number): void;
  /** Set a gauge-like value. */
  set(name: string, value: number): void;
  get(name: string): number;
  snapshot(): Record<string, number>;
  /**
   * Add a source of labeled series (e.g. one per peer), read at each metrics scrape: the
   * plugin keeps the values (plain fields on its hot path) and drops a label set by no longer
   * returning it, which is how it keeps the number of series bounded.
   */
  addSeries(source: () => Iterable<LabeledSample>): void;
}

/** One value of a labeled family: `qlog_<kind>_<name>{id, plugin, ...labels}` in /metrics. */
export interface LabeledSample {
  /** Family name, like a counter name (snake_case). */
  readonly name: string;
  /** Labels besides id and plugin, e.g. { peer: 'cid:16' }. */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** A level (Prometheus gauge) rather than a total. */
  readonly gauge?: boolean;
}

export interface ServiceInfo {
  readonly version: string;
  readonly hostname: string;
  /** Absolute path of service.state_dir (created before setup runs). */
  readonly stateDir: string;
  /** Directory of the config file; relative paths in options resolve against it. */
  readonly configDir: string;
  /** service.grace in milliseconds. */
  readonly graceMs: number;
  /** Parsers by name: the built-ins and the config's `parsers:` section (absent: built-ins only). */
  readonly parsers?: ParserSet;
  /** Multiline parsers by name: the built-ins and the config's `multiline_parsers:` (absent: built-ins only). */
  readonly multiline?: MultilineSet;
}

interface BaseContext<O> {
  /** Instance id: the entry's `alias`, else `<name>.<index>`; used in logs and metrics. */
  readonly id: string;
  readonly name: string;
  /** Validated options with defaults applied; sizes in bytes, durations in milliseconds. */
  readonly options: O;
  /** pino child logger bound to this instance. */
  readonly log: Logger;
  readonly counters: Counters;
  readonly service: ServiceInfo;
  /** A file path inside state_dir reserved for this instance, e.g. statePath('offsets.json'). */
  statePath(file: string): string;
}

export interface LifecycleHooks {
  /** Open files/sockets, start timers. Runs after every instance's setup. */
  readonly start: AsyncSeriesHook<[]>;
  /** Release everything (inputs: stop producing; outputs: called after the drain). */
  readonly stop: AsyncSeriesHook<[]>;
}

export interface InputHooks extends LifecycleHooks {
  /**
   * Shutdown/reload only: runs after `stop` and after the outputs drained (or the grace period
   * ran out), when no more settlements will come. Persist final state (offsets) here.
   */
  readonly drained: AsyncSeriesHook<[]>;
  /** Downstream is full: stop producing until `resume`. */
  readonly pause: SyncHook<[]>;
  readonly resume: SyncHook<[]>;
}

export interface Settlement {
  /** true when every output that received the chunk acknowledged it; false if one gave up (dropped). */
  readonly delivered: boolean;
}

export interface EmitOptions {
  /** Payload size in bytes if the input knows it (saves the core estimating it). */
  bytes?: number;
  /** Called once when every output the chunk was routed to has acked or dropped it. */
  onSettled?: (s: Settlement) => void;
  /** For inputs that cannot pause (samplers): drop the chunk, counted, when downstream is full. */
  dropIfFull?: boolean;
}

export interface InputContext<O> extends BaseContext<O> {
  readonly hooks: InputHooks;
  /** The entry's `tag` option (default `<name>.<index>`). */
  readonly tag: string;
  /**
   * Hand records to the pipeline. Returns false when downstream is full: a pausable input
   * stops and waits for the `resume` hook (or `await ready()`), as with stream.write().
   */
  emit(tag: string, records: LogRecord[], opts?: EmitOptions): boolean;
  /**
   * emit() for lines kept as the bytes they were read as (see LineBlock): no record objects are
   * built unless a filter or an output asks for them, and vsock-forward encodes the bytes
   * directly. For inputs that read text lines in bulk (tail).
   */
  emitLines(tag: string, block: LineBlock, opts?: EmitOptions): boolean;
  /**
   * emit() for forwarded lines kept as the Forward entries they arrived in (see EntryBlock): no
   * record objects are built unless a filter or an output asks for them, and rotated-file copies
   * the lines' bytes. `bytes`: line bytes + 1 per line. For inputs that receive Forward messages.
   */
  emitEntries(tag: string, block: EntryBlock, bytes: number, opts?: EmitOptions): boolean;
  /** Resolves when downstream has room (at once if it has). */
  ready(): Promise<void>;
  readonly paused: boolean;
}

export interface FilterHooks extends LifecycleHooks {
  /**
   * Transform a chunk: return it (mutated or replaced, same tag). Return a chunk with no
   * records to drop them all. Delaying the returned promise applies backpressure to the source.
   */
  readonly chunk: AsyncSeriesWaterfallHook<[Chunk]>;
}

export interface FilterContext<O> extends BaseContext<O> {
  readonly hooks: FilterHooks;
  /**
   * Inject new records (e.g. a summary) into the pipeline; they pass the filters after this one.
   * `onSettled` is called once every output they were routed to acked or dropped them.
   */
  emit(tag: string, records: LogRecord[], opts?: { onSettled?: (s: Settlement) => void }): void;
  /**
   * Keep `chunk` (the chunk this filter is handed) from being acknowledged to its input until the
   * returned release is called (with whether its held records were delivered): for a filter that
   * holds records and emits them later (multiline), so the input does not commit them before.
   */
  hold(chunk: Chunk): (delivered: boolean) => void;
}

export interface OutputHooks extends LifecycleHooks {
  /**
   * Deliver a chunk. Resolve = acknowledged (the data is safe where it goes). Reject = not
   * delivered: the core retries with exponential backoff and jitter up to `retry_limit`; throw
   * a PermanentError to drop at once. A chunk is never flushed twice at the same time.
   */
  readonly flush: AsyncParallelHook<[Chunk]>;
}

export interface OutputContext<O> extends BaseContext<O> {
  readonly hooks: OutputHooks;
}

export type ContextOf<K extends PluginKind, O> = K extends 'input' ? InputContext<O> : K extends 'filter' ? FilterContext<O> : OutputContext<O>;

export interface CheckError {
  /**
   * Option key the problem is about (for the file:line:column of the message); a nested option
   * or list item as a dotted path: `seal.recipients.2`.
   */
  key: string;
  message: string;
}

/** What a check may need beyond the options. */
export interface CheckContext {
  /** Directory of the config file (relative file options resolve against it). */
  configDir: string;
}

export interface PluginDefinition<K extends PluginKind = PluginKind, S extends OptionsSchema = OptionsSchema> {
  readonly kind: K;
  /** Name users write in config (`name: tail`). Lowercase, digits, '-' and '_'. */
  readonly name: string;
  readonly description: string;
  /** Semver range of qlog versions this plugin works with, e.g. '^0.1.0'. */
  readonly qlog: string;
  readonly schema: S;
  /** Cross-field checks that JSON Schema cannot express; return the first problem found. */
  // Method syntax (bivariant parameters) so any concrete plugin is assignable to AnyPlugin.
  check?(options: Infer<S>, ctx: CheckContext): CheckError | undefined;
  setup(ctx: ContextOf<K, Infer<S>>): void | Promise<void>;
}

export type Plugin<K extends PluginKind = PluginKind, S extends OptionsSchema = OptionsSchema> = Readonly<PluginDefinition<K, S>> & {
  readonly [PLUGIN_BRAND]: true;
};

/** Any plugin, whatever its option types (for registries and loaders). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
// biome-ignore lint/suspicious/noExplicitAny: a plugin of any options type (the registry holds them all)
export type AnyPlugin = Plugin<PluginKind, any>;

/** Make a plugin descriptor. Option types are inferred from `schema` (declare it `as const`). */
export function definePlugin<K extends PluginKind, const S extends OptionsSchema>(def: PluginDefinition<K, S>): Plugin<K, S> {
  return Object.freeze({ ...def, [PLUGIN_BRAND]: true as const });
}

export function isPlugin(x: unknown): x is AnyPlugin {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}

/** Where the engine (core/plugin/loader.ts) publishes its PermanentError class. */
const HOST_PERMANENT = Symbol.for('qlog.PermanentError');

/**
 * Thrown by an output's flush to drop a chunk without retrying (counted as dropped).
 *
 * A process can hold two copies of this class: the engine's (ESM) and the one bundled into
 * qlog's CommonJS entry (dist/core/index.cjs) that CJS plugins get. The engine tests
 * `err instanceof PermanentError`, so a copy that is not the engine's puts the engine's
 * prototype into its own chain on first use: its errors are instances of both classes.
 * Not a QlogError: its message is the plugin's own words, and the SDK bundle stays free of the
 * error table.
 */
export class PermanentError extends Error {
  override name = 'PermanentError';
  constructor(message?: string, options?: ErrorOptions) {
    linkToHost();
    super(message, options);
  }
}

function linkToHost(): void {
  const Host = (globalThis as Record<symbol, unknown>)[HOST_PERMANENT];
  if (typeof Host !== 'function' || Host === PermanentError) return;
  const hostProto = (Host as { prototype: object }).prototype;
  if (!Object.prototype.isPrototypeOf.call(hostProto, PermanentError.prototype)) Object.setPrototypeOf(PermanentError.prototype, hostProto);
}

/** Make this copy the one every other copy links to (the engine calls it when it loads). */
export function hostPermanentError(): void {
  (globalThis as Record<symbol, unknown>)[HOST_PERMANENT] ??= PermanentError;
}
