/** The input harness: an input plugin feeding the library output (see harness.ts). */
import type { Engine } from '../engine/engine.js';
import type { InstanceBase } from '../engine/context.js';
import type { Chunk, LogRecord } from '../record.js';
import type { LogEntry } from './harness-config.js';
import type { Sink } from './harness-lib.js';
import { HarnessBase } from './harness.js';

/** An input feeding the library output. */
export class InputHarness<O> extends HarnessBase<O> {
  private cursor = 0;

  constructor(
    engine: Engine,
    instance: InstanceBase,
    logs: LogEntry[],
    tempStateDir: string | undefined,
    timeoutMs: number,
    private readonly sink: Sink,
  ) {
    super(engine, instance, logs, tempStateDir, timeoutMs);
  }

  /** Every record that reached the output so far, in order (a retried chunk counts once). */
  get received(): LogRecord[] {
    return this.sink.received;
  }

  /** Chunks that reached the output so far. */
  get chunks(): Chunk[] {
    return this.sink.chunks;
  }

  /**
   * The next records that reach the output (those no earlier collect() returned).
   * `{ count }` waits for exactly that many (throws after `timeout`, default 5 s);
   * `{ ms }` waits that long and returns whatever arrived; with both, whichever comes first.
   */
  async collect(opts: { count?: number; ms?: number; timeout?: number }): Promise<LogRecord[]> {
    const { count, ms } = opts;
    if (count === undefined && ms === undefined) throw new TypeError('collect: give { count } and/or { ms }');
    const have = () => this.sink.received.length - this.cursor;
    const start = Date.now();
    const timeout = ms ?? opts.timeout ?? this.timeoutMs;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (count !== undefined && have() >= count) return done();
        if (Date.now() - start >= timeout) {
          if (count !== undefined && ms === undefined)
            return done(new Error(`qlog/testing: collect expected ${count} records within ${timeout} ms, got ${have()}`));
          return done();
        }
      };
      const timer = setInterval(check, 5);
      const off = this.sink.onChange(check);
      const done = (e?: Error) => {
        clearInterval(timer);
        off();
        if (e) reject(e);
        else resolve();
      };
      check();
    });
    const n = count === undefined ? have() : Math.min(count, have());
    const out = this.sink.received.slice(this.cursor, this.cursor + n);
    this.cursor += n;
    return out;
  }

  /** Flushes waiting for ack()/nack()/drop() (created with `ack: 'manual'`). */
  get pending(): number {
    return this.sink.pending;
  }

  /** Acknowledge the first `n` (default all) waiting flushes: the input's onSettled sees delivered: true. */
  ack(n?: number): number {
    return this.sink.settle('ack', n);
  }

  /** Reject waiting flushes: the engine retries them (the harness output retries after ~10 ms). */
  nack(error?: unknown, n?: number): number {
    return this.sink.settle('nack', n, error);
  }

  /** Reject waiting flushes with a PermanentError: dropped, onSettled sees delivered: false. */
  drop(error?: unknown, n?: number): number {
    return this.sink.settle('drop', n, error);
  }

  /** Whether the engine has paused the input (its pause hook fired, emit() returns false). */
  get paused(): boolean {
    return (this.instance as unknown as { paused: boolean }).paused;
  }

  /** The output's options, writable here only: pause()/resume() move its buffer_limit. */
  private get outputCfg(): { buffer_limit: number } {
    return (this.engine.outputs[0] as unknown as { cfg: { buffer_limit: number } }).cfg;
  }
  private savedLimit?: number;

  /** Downstream becomes full: the input's next emit() returns false and its pause hook fires. */
  pause(): void {
    this.savedLimit ??= this.outputCfg.buffer_limit;
    this.outputCfg.buffer_limit = 0;
  }

  /** Downstream has room again: a paused input gets its resume hook (and ready() resolves). */
  resume(): void {
    if (this.savedLimit !== undefined) this.outputCfg.buffer_limit = this.savedLimit;
    this.savedLimit = undefined;
    for (const i of this.engine.inputs) i.maybeResume();
  }
}
