/**
 * An output instance: a bounded FIFO of chunks (bytes), flushed event-driven through the
 * plugin's `flush` hook with at most `workers` chunks in flight. Queued chunks with the same
 * tag are merged up to flush_max_size (an idle output gets data at once, a busy one batches).
 * Failed flushes are retried with exponential backoff and equal jitter; bytes stay counted
 * until acked or dropped, so memory is bounded by buffer_limit (+ one chunk).
 */
import { AsyncParallelHook, AsyncSeriesHook } from 'tapable';
import type { Logger } from 'pino';
import { backoffDelay } from '../backoff.js';
import { chunkCost, newChunkId, PackedChunk, recordCount, type Chunk } from '../record.js';
import { PermanentError, type OutputContext, type OutputHooks, type ServiceInfo } from '../plugin/define.js';
import type { EntryConfig } from '../config/load.js';
import type { CommonOutput } from '../config/common.js';
import { InstanceBase } from './context.js';
import type { Ticket } from './ticket.js';

interface Queued {
  chunk: Chunk;
  ticket: Ticket;
  /** Memory cost counted in bufferedBytes (fixed at enqueue: the chunk must not change it later). */
  cost: number;
}

interface Delivery {
  chunk: Chunk;
  tickets: Ticket[];
  bytes: number;
  cost: number;
  attempt: number;
}

export class OutputInstance extends InstanceBase {
  readonly hooks: OutputHooks = Object.freeze({
    start: new AsyncSeriesHook<[]>(),
    stop: new AsyncSeriesHook<[]>(),
    flush: new AsyncParallelHook<[Chunk]>(['chunk']),
  });
  /** FIFO; slots before `head` are cleared when taken so delivered chunks can be collected. */
  private readonly queue: (Queued | undefined)[] = [];
  private head = 0;
  private inflight = 0;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Memory held by chunks accepted and not yet acked or dropped (queued + in flight): bytes + per-record overhead. */
  bufferedBytes = 0;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  readonly cfg: CommonOutput;

  constructor(
    entry: EntryConfig,
    logger: Logger,
    service: ServiceInfo,
    private readonly onRoom: () => void,
  ) {
    super(entry, logger, service);
    this.cfg = entry.common as CommonOutput;
  }

  context(): OutputContext<unknown> {
    return { ...this.baseContext(), hooks: this.hooks };
  }

  get full(): boolean {
    return this.bufferedBytes >= this.cfg.buffer_limit;
  }

  get idle(): boolean {
    return this.bufferedBytes === 0 && this.inflight === 0;
  }

  enqueue(chunk: Chunk, ticket: Ticket): void {
    const cost = chunkCost(chunk);
    this.queue.push({ chunk, ticket, cost });
    this.bufferedBytes += cost;
    this.counters.add('records_in', recordCount(chunk));
    this.counters.add('bytes_in', chunk.bytes);
    this.schedule();
  }

  private schedule(): void {
    while (this.inflight < this.cfg.workers && this.head < this.queue.length && !this.stopped) {
      const first = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      const tickets = [first.ticket];
      let chunk = first.chunk;
      let bytes = chunk.bytes;
      let cost = first.cost;
      // Merge followers with the same tag (never more than flush_max_size). Packed blocks stay
      // blocks (no records are built) while every follower is packed the same way; anything
      // else is merged as records.
      const packed = packedOf(chunk);
      let blocks = packed?.blocks?.slice();
      while (this.head < this.queue.length) {
        const next = this.queue[this.head]!;
        if (next.chunk.tag !== chunk.tag || bytes + next.chunk.bytes > this.cfg.flush_max_size) break;
        const nextBlocks = blocks && packedOf(next.chunk, packed)?.blocks;
        if (nextBlocks) {
          for (const b of nextBlocks) blocks!.push(b);
        } else {
          if (blocks) {
            // Records of every chunk merged so far (a fresh array).
            chunk = { id: newChunkId(), tag: chunk.tag, records: packed!.with('', blocks, bytes).records, bytes };
            blocks = undefined;
          } else if (tickets.length === 1) chunk = { id: newChunkId(), tag: chunk.tag, records: chunk.records.slice(), bytes };
          for (const r of next.chunk.records) chunk.records.push(r);
        }
        bytes += next.chunk.bytes;
        cost += next.cost;
        chunk.bytes = bytes;
        tickets.push(next.ticket);
        this.queue[this.head++] = undefined;
      }
      if (blocks && tickets.length > 1) chunk = packed!.with(newChunkId(), blocks, bytes);
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.inflight++;
      void this.run({ chunk, tickets, bytes, cost, attempt: 0 });
    }
  }

  private async run(d: Delivery): Promise<void> {
    let error: unknown;
    try {
      await this.hooks.flush.promise(d.chunk);
    } catch (e) {
      error = e ?? new Error('flush rejected');
    }
    if (error === undefined) {
      this.counters.add('records_out', recordCount(d.chunk));
      this.counters.add('bytes_out', d.bytes);
      for (const t of d.tickets) t.ack();
      return this.release(d);
    }
    this.counters.add('errors');
    if (this.stopped) {
      // Abandoned at shutdown: leave the tickets unsettled so inputs that track offsets read
      // these records again after a restart (settling as dropped would let tail commit past them).
      return this.release(d);
    }
    const limit = this.cfg.retry_limit;
    const permanent = error instanceof PermanentError;
    if (permanent || (typeof limit === 'number' && d.attempt >= limit)) {
      const n = recordCount(d.chunk);
      this.counters.add('dropped_records', n);
      this.counters.add('retries_failed');
      this.log.error(
        { err: error, chunk: d.chunk.id, records: n, attempts: d.attempt + 1 },
        `${this.id}: dropping ${n} records of ${d.chunk.tag}: ${(error as Error)?.message ?? error}${permanent ? '' : ` (retry_limit ${limit} reached)`}`,
      );
      for (const t of d.tickets) t.drop();
      return this.release(d);
    }
    const delay = backoffDelay(d.attempt, this.cfg.retry_base, this.cfg.retry_max);
    this.counters.add('retries');
    this.counters.add('retried_records', recordCount(d.chunk));
    const level = d.attempt === 0 ? 'warn' : 'debug';
    this.log[level](
      { err: error, chunk: d.chunk.id, attempt: d.attempt + 1, delay_ms: Math.round(delay) },
      `${this.id}: flush failed (${(error as Error)?.message ?? error}); retrying in ${Math.round(delay)} ms`,
    );
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      void this.run({ ...d, attempt: d.attempt + 1 });
    }, delay);
    this.retryTimers.add(timer);
  }

  private release(d: Delivery): void {
    const wasFull = this.full;
    this.bufferedBytes -= d.cost;
    this.inflight--;
    if (this.idle) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
    this.schedule();
    if (wasFull && !this.full) this.onRoom();
  }

  /** Resolves when everything accepted so far is acked or dropped, or after `ms`. Returns true if drained. */
  drain(ms: number): Promise<boolean> {
    if (this.idle) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /**
   * Give up on what is left after the grace period. Tickets are left unsettled on purpose:
   * the inputs do not commit those records, so they are read again after a restart.
   */
  abandon(): number {
    this.stopped = true;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    let n = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const q = this.queue[i]!;
      n += recordCount(q.chunk);
    }
    this.queue.length = 0;
    this.head = 0;
    return n;
  }
}

/** A packed chunk whose records were never built (and of the same kind as `like`), else undefined. */
function packedOf(c: Chunk, like?: PackedChunk<{ count: number }>): PackedChunk<{ count: number }> | undefined {
  if (!(c instanceof PackedChunk) || c.blocks === undefined) return undefined;
  return like === undefined || c.constructor === like.constructor ? c : undefined;
}
