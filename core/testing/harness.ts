/**
 * Harness objects: one plugin instance running in a real Engine between the library input and
 * output (harness-lib.ts). What a test gets back from createHarness().
 */
import { rmSync } from 'node:fs';
import type { Engine } from '../engine/engine.js';
import type { InstanceBase } from '../engine/context.js';
import { nowNs, type Chunk, type LogRecord, type RecordBody } from '../record.js';
import { PermanentError, type InputContext, type LabeledSample, type ServiceInfo, type Settlement } from '../plugin/define.js';
import type { LogEntry } from './harness-config.js';
import { withTimeout } from '../timeout.js';
import type { Sink } from './harness-lib.js';

/** A record as a test writes it: a line, an object body, or a (partial) LogRecord with `body`. */
export type RecordInput = string | (Partial<LogRecord> & { body: RecordBody }) | { [key: string]: unknown };

/** A failure of the plugin under test, caught where the engine contains it. */
export interface HarnessError {
  /** Hook that failed: setup, start, stop, chunk (filter), flush (output), pause, resume. */
  stage: string;
  error: unknown;
}

/** Turn what a test wrote into a LogRecord (time now, empty meta unless given). */
export function toRecord(x: RecordInput, tag: string): LogRecord {
  if (typeof x === 'string') return { time: nowNs(), tag, body: x, meta: {} };
  if (x && typeof x === 'object' && 'body' in x) {
    const r = x as Partial<LogRecord>;
    return { time: r.time ?? nowNs(), tag: r.tag ?? tag, body: r.body as RecordBody, meta: r.meta ?? {} };
  }
  return { time: nowNs(), tag, body: x as { [key: string]: unknown }, meta: {} };
}

/** Consecutive records with the same tag form one chunk (a chunk has one tag). */
function byTag(records: LogRecord[]): LogRecord[][] {
  const groups: LogRecord[][] = [];
  for (const r of records) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.tag === r.tag) last.push(r);
    else groups.push([r]);
  }
  return groups;
}

function lastOf<T>(list: readonly T[], pred: (x: T) => boolean): T | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i]!)) return list[i];
  return undefined;
}

type AnyHook = { intercept(i: { register?: (tap: TapLike) => TapLike; call?: (...a: unknown[]) => void }): void };
interface TapLike {
  type: 'sync' | 'async' | 'promise';
  name: string;
  fn: (...a: unknown[]) => unknown;
}

export interface StopResult {
  /** Records still queued at outputs when the grace period ended (not delivered). */
  lost: number;
}

export class HarnessBase<O> {
  /** Failures of the plugin under test (the engine logged, counted and contained them). */
  readonly errors: HarnessError[] = [];
  private started = false;
  private stopping?: Promise<StopResult>;

  constructor(
    protected readonly engine: Engine,
    /** The plugin instance under test. */
    protected readonly instance: InstanceBase,
    /** Every line the agent logged (pino JSON, level as a label), the plugin's child logger included. */
    readonly logs: LogEntry[],
    private readonly tempStateDir: string | undefined,
    protected readonly timeoutMs: number,
  ) {
    const hooks = (instance as unknown as { hooks: Record<string, AnyHook> }).hooks;
    for (const [stage, hook] of Object.entries(hooks)) this.watch(hook, stage);
  }

  /** Instance id (`<name>.0`, or the alias given in options). */
  get id(): string {
    return this.instance.id;
  }

  /** The options the plugin's setup received: validated, defaults applied, units converted. */
  get options(): O {
    return this.instance.options as O;
  }

  get service(): ServiceInfo {
    return this.instance.service;
  }

  /** The instance's counters now (records_in/out, bytes, errors, retries, drops, the plugin's own). */
  get counters(): Record<string, number> {
    return this.instance.counters.snapshot();
  }

  /** The instance's labeled series now (Counters.addSeries, e.g. per peer), as /metrics shows them. */
  get series(): LabeledSample[] {
    return this.instance.counters.series();
  }

  /** Record failures of the plugin's taps (they are re-thrown: the engine handles them as usual). */
  private watch(hook: AnyHook, stage: string): void {
    const note = (error: unknown) => this.errors.push({ stage, error });
    hook.intercept({
      register: (tap) => {
        const fn = tap.fn;
        if (tap.type === 'promise') {
          tap.fn = (...a) => {
            try {
              return Promise.resolve(fn(...a)).catch((e: unknown) => {
                note(e);
                throw e;
              });
            } catch (e) {
              note(e);
              throw e;
            }
          };
        } else if (tap.type === 'async') {
          tap.fn = (...a) => {
            const cb = a.pop() as (err?: unknown, res?: unknown) => void;
            try {
              return fn(...a, (err?: unknown, res?: unknown) => {
                if (err) note(err);
                cb(err, res);
              });
            } catch (e) {
              note(e);
              throw e;
            }
          };
        } else {
          tap.fn = (...a) => {
            try {
              return fn(...a);
            } catch (e) {
              note(e);
              throw e;
            }
          };
        }
        return tap;
      },
    });
  }

  /** Run every setup, then every start hook (done by createHarness unless `start: false`). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // The engine's time limits use unref'd timers (the agent keeps the loop alive): so do we.
    const alive = setInterval(() => undefined, 1000);
    try {
      await this.engine.setup();
    } catch (e) {
      this.errors.push({ stage: 'setup', error: (e as Error).cause ?? e });
      throw e;
    } finally {
      clearInterval(alive);
    }
    const alive2 = setInterval(() => undefined, 1000);
    try {
      await this.engine.start();
    } finally {
      clearInterval(alive2);
    }
  }

  /**
   * Stop like the agent does on SIGTERM: inputs stop, queues drain for up to `grace` ms
   * (default service.grace), then filters and outputs stop. Removes the temporary state dir.
   */
  stop(opts: { grace?: number } = {}): Promise<StopResult> {
    this.stopping ??= (async () => {
      const alive = setInterval(() => undefined, 1000);
      const lost = this.started ? await this.engine.stop(opts.grace ?? this.service.graceMs).finally(() => clearInterval(alive)) : 0;
      clearInterval(alive);
      if (this.tempStateDir) rmSync(this.tempStateDir, { recursive: true, force: true });
      return { lost };
    })();
    return this.stopping;
  }

  /** Same as stop() (for `after(() => h.close())`). */
  close(): Promise<StopResult> {
    return this.stop();
  }

  /** Wait until `cond()` holds (checked every 5 ms); throws after `timeout` ms naming `what`. */
  async waitFor(cond: () => boolean, opts: { timeout?: number; what?: string } = {}): Promise<void> {
    const timeout = opts.timeout ?? this.timeoutMs;
    const start = Date.now();
    while (!cond()) {
      if (Date.now() - start >= timeout) throw new Error(`qlog/testing: ${opts.what ?? 'condition'} not reached within ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Resolve when `p` does, or throw after the harness timeout. */
  protected within<T>(p: Promise<T>, what: string, ms = this.timeoutMs): Promise<T> {
    return withTimeout(p, ms, `qlog/testing: ${what}`, { keepAlive: true });
  }
}

/** Emit through the library input and wait until every output settled each chunk. */
async function emitAndSettle(lib: InputContext<unknown>, records: LogRecord[]): Promise<Settlement[]> {
  const waits: Promise<Settlement>[] = [];
  for (const group of byTag(records)) {
    waits.push(new Promise<Settlement>((onSettled) => lib.emit(group[0]!.tag, group, { onSettled })));
  }
  return Promise.all(waits);
}

/** A filter between the library input and output. */
export class FilterHarness<O> extends HarnessBase<O> {
  constructor(
    engine: Engine,
    instance: InstanceBase,
    logs: LogEntry[],
    tempStateDir: string | undefined,
    timeoutMs: number,
    private readonly lib: () => InputContext<unknown>,
    private readonly sink: Sink,
    private readonly tag: string,
    private readonly throwOnError: boolean,
  ) {
    super(engine, instance, logs, tempStateDir, timeoutMs);
  }

  /** Every record that passed the filter so far (and records the filter emitted itself). */
  get received(): LogRecord[] {
    return this.sink.received;
  }

  /**
   * Send records through the filter; resolves with what reached the output (in order), records
   * the filter injected with ctx.emit included. A chunk hook that throws makes this reject with
   * that error (the engine itself would log it and pass the chunk on unchanged; create the
   * harness with `throwOnError: false` to see exactly that).
   */
  async filter(records: RecordInput[], opts: { tag?: string } = {}): Promise<LogRecord[]> {
    const tag = opts.tag ?? this.tag;
    const from = this.sink.received.length;
    const errorsBefore = this.errors.length;
    await this.within(
      emitAndSettle(
        this.lib(),
        records.map((r) => toRecord(r, tag)),
      ),
      'filter()',
    );
    // Records the filter injected travel as separate chunks: wait until the output is idle.
    const out = this.engine.outputs[0]!;
    await this.waitFor(() => out.idle, { what: 'delivery of records the filter emitted' });
    const failure = this.errors.slice(errorsBefore).find((e) => e.stage === 'chunk');
    if (failure && this.throwOnError) throw failure.error;
    return this.sink.received.slice(from);
  }
}

export interface FlushResult {
  /** true when the output resolved the flush: the chunk is acknowledged. */
  acked: boolean;
  /** acked; nacked = rejected (production retries it up to retry_limit); dropped = PermanentError. */
  status: 'acked' | 'nacked' | 'dropped';
  /** What the flush rejected with (last attempt), if it did. */
  error?: unknown;
  /** How many times flush was called for these records (1 + retries). */
  attempts: number;
}

interface Attempt {
  chunk: Chunk;
  error?: unknown;
}

/** An output fed by the library input. */
export class OutputHarness<O> extends HarnessBase<O> {
  /** Every flush call, in order, with what it rejected with (retries are separate entries). */
  readonly attempts: Attempt[] = [];

  constructor(
    engine: Engine,
    instance: InstanceBase,
    logs: LogEntry[],
    tempStateDir: string | undefined,
    timeoutMs: number,
    private readonly lib: () => InputContext<unknown>,
    private readonly tag: string,
  ) {
    super(engine, instance, logs, tempStateDir, timeoutMs);
    const flush = (instance as unknown as { hooks: { flush: AnyHook } }).hooks.flush;
    flush.intercept({ call: (chunk) => void this.attempts.push({ chunk: chunk as Chunk }) });
    flush.intercept({
      register: (tap) => {
        const fn = tap.fn;
        tap.fn = (...a) => {
          const mark = (e: unknown) => {
            const at = lastOf(this.attempts, (x) => x.chunk === a[0]);
            if (at && at.error === undefined) at.error = e ?? new Error('flush rejected');
          };
          if (tap.type !== 'promise') {
            try {
              return fn(...a);
            } catch (e) {
              mark(e);
              throw e;
            }
          }
          return Promise.resolve()
            .then(() => fn(...a))
            .catch((e: unknown) => {
              mark(e);
              throw e;
            });
        };
        return tap;
      },
    });
  }

  /**
   * Hand records to the output as one chunk per tag and wait until it acked or gave up. The
   * harness sets retry_limit 0 unless the options say otherwise, so a rejection ends at once.
   */
  async flush(records: RecordInput[], opts: { tag?: string } = {}): Promise<FlushResult> {
    const recs = records.map((r) => toRecord(r, opts.tag ?? this.tag));
    const settled = await this.within(emitAndSettle(this.lib(), recs), 'flush()');
    const mine = this.attempts.filter((a) => recs.some((r) => a.chunk.records.includes(r)));
    const error = lastOf(mine, (a) => a.error !== undefined)?.error;
    if (settled.every((s) => s.delivered)) return { acked: true, status: 'acked', attempts: mine.length };
    return { acked: false, status: error instanceof PermanentError ? 'dropped' : 'nacked', error, attempts: mine.length };
  }
}
