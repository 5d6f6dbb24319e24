/**
 * Delivery of chunks to one HTTP endpoint: a chunk resolves (is acknowledged) only once the
 * target stored every record of it, or rejected some for good. Records keep their state across
 * the core's retries of the same chunk (pending / stored / rejected), so a resend carries only
 * what is still pending: Elasticsearch's per-item 429s are sent again, its 400s are not.
 *  - 2xx: stored (Elasticsearch: per item; OTLP partialSuccess: counted as rejected).
 *  - 429, 5xx, network errors, timeouts: retried by the core with backoff; a Retry-After holds
 *    every request of this output back until then (cut to max_retry_after).
 *  - other 4xx: rejected for good: a PermanentError when nothing of the chunk was stored
 *    (the core drops and counts it), else counted as dropped_records here; logged with the
 *    first bytes of the answer.
 */
import { PermanentError, recordBytes, type Chunk, type Counters, type LogRecord } from '../../core/index.js';
import { createError, formatError, type QlogError } from '../../core/errors.js';
import type { Logger } from 'pino';
import { RequestBatcher, verdictAt, type Verdicts } from './http-batch.js';
import type { HttpClient } from './http-client.js';
import { retriable, type Format, type ItemVerdict } from './http-format.js';

/** Bytes of an answer quoted in logs and errors. */
const QUOTE = 300;
/** Framing each record adds to its body (action line, keys, quotes), for cutting requests. */
const RECORD_FRAMING = 96;

interface Progress {
  state: Uint8Array;
  /** Why the first record rejected for good was rejected. */
  rejectReason: string | undefined;
}

const PENDING = 0;
const STORED = 1;
const REJECTED = 2;

export interface DeliverOptions {
  id: string;
  url: string;
  format: Format;
  client: HttpClient;
  batchSize: number;
  batchWaitMs: number;
  maxRetryAfterMs: number;
  log: Logger;
  counters: Counters;
}

function quote(body: Buffer): string {
  const s = body.subarray(0, QUOTE).toString('utf8').replace(/\s+/g, ' ').trim();
  return body.length > QUOTE ? `${s}...` : s || '(empty)';
}

export class HttpDelivery {
  /** Per chunk (the core retries the same object): each record's state, once not all went through. */
  private readonly progress = new WeakMap<Chunk, Progress>();
  private readonly batcher: RequestBatcher;
  private readonly url: string;
  /** No request starts before this time (Date.now() ms): the target's Retry-After. */
  private notBefore = 0;
  private readonly stopping = new AbortController();

  constructor(private readonly o: DeliverOptions) {
    this.url = o.url;
    this.batcher = new RequestBatcher(o.batchSize, o.batchWaitMs, (r) => this.request(r));
  }

  async flush(chunk: Chunk): Promise<void> {
    const all = chunk.records;
    const saved = this.progress.get(chunk);
    let state = saved?.state;
    let rejectReason = saved?.rejectReason;
    const todo: number[] = [];
    for (let i = 0; i < all.length; i++) if (!state || state[i] === PENDING) todo.push(i);
    let whole: ItemVerdict | undefined;
    let firstRetry: string | undefined;
    for (let start = 0; start < todo.length && whole === undefined; ) {
      // One request's worth of records (at least one, however big).
      const recs: LogRecord[] = [];
      let bytes = 0;
      let end = start;
      for (; end < todo.length; end++) {
        const b = recordBytes(all[todo[end]!]!) + RECORD_FRAMING;
        if (recs.length && bytes + b > this.o.batchSize) break;
        recs.push(all[todo[end]!]!);
        bytes += b;
      }
      await this.gate();
      const v = await this.batcher.submit(recs, bytes);
      if (!Array.isArray(v) && retriable(v.status)) whole = v;
      for (let k = start; k < end; k++) {
        const it = verdictAt(v, k - start);
        const s = it.status < 300 ? STORED : retriable(it.status) ? PENDING : REJECTED;
        if (s === STORED && !state) continue;
        state ??= new Uint8Array(all.length).fill(STORED);
        state[todo[k]!] = s;
        if (s === PENDING) firstRetry ??= it.reason;
        else if (s === REJECTED) rejectReason ??= it.reason ?? `status ${it.status}`;
      }
      start = end;
      if (whole) for (let k = end; k < todo.length; k++) (state ??= new Uint8Array(all.length).fill(STORED))[todo[k]!] = PENDING;
    }
    if (!state) return;
    let pending = 0;
    let rejected = 0;
    for (let i = 0; i < state.length; i++) {
      if (state[i] === PENDING) pending++;
      else if (state[i] === REJECTED) rejected++;
    }
    if (pending) {
      this.progress.set(chunk, { state, rejectReason });
      this.o.counters.add('records_resent', pending);
      if (whole?.error && pending === all.length) throw whole.error;
      throw createError('QLOG_ERR_HTTP_ITEMS/retry', { url: this.url, count: pending, total: all.length, reason: firstRetry ?? '' });
    }
    this.progress.delete(chunk);
    this.o.counters.add('records_rejected', rejected);
    if (rejected === all.length) throw new PermanentError(rejectReason);
    this.o.counters.add('dropped_records', rejected);
    this.o.log.error(
      { rejected, records: all.length },
      formatError('QLOG_ERR_HTTP_ITEMS', { id: this.o.id, url: this.url, count: rejected, total: all.length, reason: rejectReason ?? '' }),
    );
  }

  /** One request; every outcome is a verdict (network errors too). */
  private async request(records: LogRecord[]): Promise<Verdicts> {
    this.o.counters.add('requests');
    let res: Awaited<ReturnType<HttpClient['post']>>;
    try {
      res = await this.o.client.post(this.o.format.encode(records));
    } catch (e) {
      return { status: 599, reason: (e as Error).message, error: e as Error };
    }
    const { status, body } = res;
    if (status >= 200 && status < 300) {
      try {
        const a = this.o.format.accepted?.(body, records.length);
        if (a?.rejected) {
          this.o.counters.add('records_rejected', a.rejected);
          this.o.counters.add('dropped_records', a.rejected);
          this.o.log.error(
            formatError('QLOG_ERR_HTTP_ITEMS/partial', { id: this.o.id, url: this.url, count: a.rejected, total: records.length, reason: a.reason ?? '' }),
          );
        }
        if (a?.items) return a.items;
        return { status };
      } catch (e) {
        const error = createError('QLOG_ERR_HTTP_ANSWER', { url: this.url, status, reason: (e as Error).message, body: quote(body) });
        return { status: 598, reason: error.message, error };
      }
    }
    const err: QlogError = retriable(status)
      ? createError('QLOG_ERR_HTTP_STATUS', { url: this.url, status, body: quote(body) })
      : createError('QLOG_ERR_HTTP_REJECTED', { url: this.url, status, body: quote(body) });
    if (retriable(status) && res.retryAfterMs !== undefined) {
      this.notBefore = Math.max(this.notBefore, Date.now() + Math.min(res.retryAfterMs, this.o.maxRetryAfterMs));
    }
    return { status, reason: err.message, error: err };
  }

  /** Waits out a Retry-After; rejects when the output stops meanwhile. */
  private gate(): Promise<void> {
    const wait = this.notBefore - Date.now();
    if (wait <= 0) return Promise.resolve();
    this.o.counters.add('retry_after_waits');
    return new Promise((resolve, reject) => {
      const signal = this.stopping.signal;
      if (signal.aborted) return reject(new Error('stopping'));
      const t = setTimeout(() => {
        signal.removeEventListener('abort', abort);
        resolve();
      }, wait);
      const abort = () => {
        clearTimeout(t);
        reject(new Error('stopping'));
      };
      signal.addEventListener('abort', abort, { once: true });
    });
  }

  stop(): void {
    this.batcher.flushNow();
    this.stopping.abort();
  }
}
