/**
 * An input instance. Its chunks pass the filters one at a time, in order (a per-input queue),
 * then fan out to the outputs. emit() returns false when this input's queue or any output it
 * feeds is full; the input is paused (hook `pause`) until the engine sees room again.
 */
import { AsyncSeriesHook, SyncHook } from 'tapable';
import type { Logger } from 'pino';
import {
  chunkBytes,
  chunkCost,
  EntryChunk,
  LineChunk,
  newChunkId,
  RECORD_OVERHEAD,
  type Chunk,
  type EntryBlock,
  type LineBlock,
  type LogRecord,
  type PackedChunk,
} from '../record.js';
import type { EmitOptions, InputContext, InputHooks, ServiceInfo } from '../plugin/define.js';
import type { EntryConfig } from '../config/load.js';
import type { CommonInput } from '../config/common.js';
import { noteRecords } from '../jit.js';
import { InstanceBase } from './context.js';
import { Ticket } from './ticket.js';
import type { OutputInstance } from './output.js';

export interface Pipeline {
  /** Filters + outputs for a chunk; resolves when the chunk is queued at its outputs. */
  process(chunk: Chunk, ticket: Ticket, from: InputInstance): Promise<void>;
  /** The outputs a chunk with this tag is routed to (so emit() can check their room before queueing). */
  outputsFor(tag: string): readonly OutputInstance[];
  /** Whether any filter matches this tag. */
  filtered(tag: string): boolean;
}

export class InputInstance extends InstanceBase {
  readonly hooks: InputHooks = Object.freeze({
    start: new AsyncSeriesHook<[]>(),
    stop: new AsyncSeriesHook<[]>(),
    drained: new AsyncSeriesHook<[]>(),
    pause: new SyncHook<[]>(),
    resume: new SyncHook<[]>(),
  });
  readonly tag: string;
  readonly cfg: CommonInput;
  /** Outputs this input has sent to (for backpressure). */
  readonly feeds = new Set<OutputInstance>();
  private readonly queue: { chunk: Chunk; ticket: Ticket; cost: number }[] = [];
  private queuedBytes = 0;
  private processing = false;
  private _paused = false;
  private readyWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  stopped = false;

  constructor(
    entry: EntryConfig,
    index: number,
    logger: Logger,
    service: ServiceInfo,
    private readonly pipeline: Pipeline,
  ) {
    super(entry, logger, service);
    this.cfg = entry.common as CommonInput;
    this.tag = this.cfg.tag ?? `${entry.plugin.name}.${index}`;
  }

  context(): InputContext<unknown> {
    const self = this;
    return {
      ...this.baseContext(),
      hooks: this.hooks,
      tag: this.tag,
      emit: (tag, records, opts) => this.emit(tag, records, opts),
      emitLines: (tag, block, opts) => this.emitLines(tag, block, opts),
      emitEntries: (tag, block, bytes, opts) => this.emitEntries(tag, block, bytes, opts),
      ready: () => this.ready(),
      get paused() {
        return self._paused;
      },
    };
  }

  get paused(): boolean {
    return this._paused;
  }

  /**
   * True when downstream cannot take more from this input. Bytes still in this input's queue
   * count against every output it feeds: they will land there, so a burst of emit() calls is
   * stopped by the output's buffer_limit, not only by the input's.
   */
  blocked(): boolean {
    if (this.queuedBytes >= this.cfg.buffer_limit) return true;
    for (const o of this.feeds) if (o.bufferedBytes + this.queuedBytes >= o.cfg.buffer_limit) return true;
    return false;
  }

  emit(tag: string, records: LogRecord[], opts: EmitOptions = {}): boolean {
    const bytes = opts.bytes ?? (records.length ? chunkBytes(records) : 0);
    // Memory cost, fixed now: filters may change the chunk's bytes while it is queued.
    return this.admit({ id: newChunkId(), tag, records, bytes }, records.length, bytes + records.length * RECORD_OVERHEAD, opts);
  }

  /**
   * emit() for lines kept as bytes (a LineBlock): no record objects are built unless a filter
   * or an output asks for them. Same flow control and settlement as emit().
   */
  emitLines(tag: string, block: LineBlock, opts: EmitOptions = {}): boolean {
    const bytes = opts.bytes ?? (block.count ? block.ends[block.count - 1]! - block.starts[0]! + block.count : 0);
    return this.emitPacked(new LineChunk(newChunkId(), tag, [block], bytes), opts);
  }

  /**
   * emit() for forwarded lines kept as the entries they arrived in (an EntryBlock, vsock): no
   * record objects are built unless a filter or an output asks for them. `bytes`: the payload
   * size (line bytes + 1 per line).
   */
  emitEntries(tag: string, block: EntryBlock, bytes: number, opts: EmitOptions = {}): boolean {
    return this.emitPacked(new EntryChunk(newChunkId(), tag, [block], bytes), opts);
  }

  private emitPacked(chunk: PackedChunk<{ count: number }>, opts: EmitOptions): boolean {
    // Filters turn the blocks into records: count that memory if any filter will see them.
    const cost = this.pipeline.filtered(chunk.tag) ? chunk.bytes + chunk.count * RECORD_OVERHEAD : chunkCost(chunk);
    return this.admit(chunk, chunk.count, cost, opts);
  }

  private admit(chunk: Chunk, count: number, cost: number, opts: EmitOptions): boolean {
    if (count === 0) {
      opts.onSettled?.({ delivered: true });
      return !this._paused;
    }
    for (const o of this.pipeline.outputsFor(chunk.tag)) this.feeds.add(o);
    // Received from the source, whether or not downstream takes it (drops are counted below).
    this.counters.add('records_in', count);
    this.counters.add('bytes_in', chunk.bytes);
    if (this.stopped || (opts.dropIfFull && this.blocked())) {
      this.counters.add('dropped_records', count);
      if (!this.stopped) this.log.debug({ records: count }, `${this.id}: downstream full, dropped ${count} records`);
      return false;
    }
    this.counters.add('records_out', count);
    this.counters.add('bytes_out', chunk.bytes);
    noteRecords(count);
    this.queue.push({ chunk, ticket: new Ticket(opts.onSettled), cost });
    this.queuedBytes += cost;
    if (!this.processing) void this.drainQueue();
    if (!opts.dropIfFull && this.blocked()) this.pause();
    return !this._paused;
  }

  private async drainQueue(): Promise<void> {
    this.processing = true;
    while (this.queue.length) {
      const item = this.queue.shift()!;
      try {
        await this.pipeline.process(item.chunk, item.ticket, this);
      } catch (e) {
        this.fail('routing', e);
      }
      this.queuedBytes -= item.cost;
      if (this._paused && !this.blocked()) this.resume();
    }
    this.processing = false;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private pause(): void {
    if (this._paused) return;
    this._paused = true;
    this.counters.add('paused');
    if (this.hooks.pause.isUsed()) {
      try {
        this.hooks.pause.call();
      } catch (e) {
        this.fail('pause', e);
      }
    }
  }

  /** Re-check after an output made room. */
  maybeResume(): void {
    if (this._paused && !this.blocked()) this.resume();
  }

  private resume(): void {
    this._paused = false;
    if (this.hooks.resume.isUsed()) {
      try {
        this.hooks.resume.call();
      } catch (e) {
        this.fail('resume', e);
      }
    }
    const w = this.readyWaiters;
    this.readyWaiters = [];
    for (const f of w) f();
  }

  ready(): Promise<void> {
    if (!this._paused && !this.blocked()) return Promise.resolve();
    if (!this._paused) this.pause();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  /** Resolves when every emitted chunk has passed the filters (is queued at outputs). */
  flushed(): Promise<void> {
    if (!this.processing && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Release waiters so a stopping input's loops can finish. */
  releaseWaiters(): void {
    const w = this.readyWaiters;
    this.readyWaiters = [];
    for (const f of w) f();
  }
}
