/**
 * The library input and output the harness puts around the plugin under test (Fluent Bit's
 * lib input / lib output): the input hands records to the pipeline on demand, the output
 * records what reaches it and acknowledges it at once (auto) or when the test says so (manual).
 */
import { definePlugin, PermanentError, type Chunk, type InputContext, type LogRecord } from '../index.js';
import { VERSION_RANGE } from '../index.js';

export const LIB_INPUT = 'qlog_harness_input';
export const LIB_OUTPUT = 'qlog_harness_output';

const emptySchema = { type: 'object', additionalProperties: false, properties: {} } as const;

/** The library input: its context is handed to the harness, which emits through it. */
export function makeLibInput(onSetup: (ctx: InputContext<unknown>) => void) {
  return definePlugin({
    kind: 'input',
    name: LIB_INPUT,
    description: 'qlog/testing: records handed over by the test.',
    qlog: VERSION_RANGE,
    schema: emptySchema,
    setup(ctx) {
      onSetup(ctx as InputContext<unknown>);
    },
  });
}

interface Held {
  chunk: Chunk;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** What the library output saw; shared by the input and filter harnesses. */
export class Sink {
  /** Records of every chunk that reached the output, in order (a retried chunk counts once). */
  readonly received: LogRecord[] = [];
  /** Every chunk that reached the output (a retried chunk counts once). */
  readonly chunks: Chunk[] = [];
  private readonly seen = new Set<string>();
  private held: Held[] = [];
  private waiters = new Set<() => void>();

  constructor(public manual: boolean) {}

  flush(chunk: Chunk): Promise<void> {
    if (!this.seen.has(chunk.id)) {
      this.seen.add(chunk.id);
      this.chunks.push(chunk);
      for (const r of chunk.records) this.received.push(r);
      this.notify();
    }
    if (!this.manual) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.held.push({ chunk, resolve, reject });
      this.notify();
    });
  }

  get pending(): number {
    return this.held.length;
  }

  /** Settle the first `n` held flushes (all by default); returns how many were settled. */
  settle(how: 'ack' | 'nack' | 'drop', n = Infinity, error?: unknown): number {
    const now = this.held.splice(0, Math.min(n, this.held.length));
    for (const h of now) {
      if (how === 'ack') h.resolve();
      else if (how === 'drop')
        h.reject(error instanceof PermanentError ? error : new PermanentError(error instanceof Error ? error.message : 'dropped by the test'));
      else h.reject(error ?? new Error('rejected by the test'));
    }
    return now.length;
  }

  /** Called whenever something arrives, so waits can re-check their condition. */
  onChange(f: () => void): () => void {
    this.waiters.add(f);
    return () => this.waiters.delete(f);
  }

  private notify(): void {
    for (const f of [...this.waiters]) f();
  }
}

/** The library output: every flush goes to the sink. */
export function makeLibOutput(sink: Sink) {
  return definePlugin({
    kind: 'output',
    name: LIB_OUTPUT,
    description: 'qlog/testing: collects what reaches it; acks at once or when the test says.',
    qlog: VERSION_RANGE,
    schema: emptySchema,
    setup(ctx) {
      ctx.hooks.flush.tapPromise(LIB_OUTPUT, (chunk) => sink.flush(chunk));
    },
  });
}
