/**
 * A chunk as JetStream messages: each record's subject, payload and Nats-Msg-Id (`src:seq`, so
 * JetStream drops a resend within the stream's duplicate_window), published through the ack
 * window without waiting message by message. A chunk resolves only once JetStream acked every
 * message of it; a retried chunk (same object) skips the messages already acked.
 */
import { isoTimeNs, lineBlocks, recordCount, recordLine, toJson, type Chunk, type LineBlock, type LogRecord } from '../../core/record.js';
import type { Counters } from '../../core/index.js';
import { QlogError } from '../../core/errors.js';
import type { Template } from '../../core/template.js';
import type { NatsLink } from './nats-link.js';
import type { AckListener, AckWindow, Failure } from './nats-window.js';

/** Room left in max_payload for the headers (Nats-Msg-Id, Nats-Expected-Stream). */
const HEADER_ROOM = 512;
const MAX_SUBJECTS_CACHED = 1024;
const VALID_SUBJECT = /^[^\s*>.]+(\.[^\s*>.]+)*$/;

/** A publishable subject: whitespace and wildcards become "_", so do empty tokens. */
export function cleanSubject(s: string): string {
  if (VALID_SUBJECT.test(s)) return s;
  return s
    .replace(/[\s*>]/g, '_')
    .split('.')
    .map((t) => t || '_')
    .join('.');
}

function jsonPayload(r: LogRecord): string {
  const fields = typeof r.body === 'string' ? { log: r.body } : r.body;
  return toJson({ time: isoTimeNs(r.time), tag: r.tag, ...fields });
}

/** One chunk's publishing: what is outstanding, acked, and the first failure. */
class ChunkDelivery implements AckListener {
  outstanding = 0;
  acked = 0;
  duplicates = 0;
  tooLarge = 0;
  failed = 0;
  failure: Failure | undefined;
  failedIndex = -1;
  private wake: (() => void) | undefined;

  constructor(readonly done: Uint8Array) {}

  settle(index: number, failure: Failure | undefined, duplicate: boolean): void {
    this.outstanding--;
    if (failure === undefined) {
      this.done[index] = 1;
      this.acked++;
      if (duplicate) this.duplicates++;
    } else if (failure.kind === 'too-large') {
      // The stream's max_msg_size: it can never be stored; dropped and counted, not retried.
      this.done[index] = 1;
      this.tooLarge++;
    } else {
      this.failed++;
      if (this.failure === undefined) {
        this.failure = failure;
        this.failedIndex = index;
      }
    }
    if (this.outstanding === 0) this.wake?.();
  }

  settled(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((r) => (this.wake = r));
  }
}

export interface PublisherOptions {
  subject: Template;
  /** The subject depends on the tag (and constants) only: one per chunk. */
  subjectPerChunk: boolean;
  format: 'line' | 'json';
  stream: string;
  publishTimeoutMs: number;
  name: string;
  counters: Counters;
  onTooLarge: (count: number, tag: string, max: number) => void;
}

export class ChunkPublisher {
  private readonly progress = new WeakMap<Chunk, Uint8Array>();
  private readonly subjects = new Map<string, string>();
  /** Line blocks can be published as their bytes (no record is built). */
  private readonly blocksAsBytes: boolean;

  constructor(
    private readonly link: NatsLink,
    private readonly o: PublisherOptions,
  ) {
    this.blocksAsBytes = o.format === 'line' && o.subjectPerChunk;
  }

  async publish(chunk: Chunk): Promise<void> {
    const done = this.progress.get(chunk) ?? new Uint8Array(recordCount(chunk));
    const w = await this.link.window(this.o.publishTimeoutMs);
    const d = new ChunkDelivery(done);
    const blocks = this.blocksAsBytes ? lineBlocks(chunk) : undefined;
    const tooBig = blocks ? await this.sendBlocks(w, d, chunk.tag, blocks) : await this.sendRecords(w, d, chunk);
    await d.settled();
    const c = this.o.counters;
    c.add('acks', d.acked);
    if (d.duplicates) c.add('duplicates', d.duplicates);
    const dropped = tooBig + d.tooLarge;
    if (dropped) {
      c.add('records_too_large', dropped);
      this.o.onTooLarge(dropped, chunk.tag, w.maxPayload);
    }
    c.set('inflight', w.size);
    if (d.failure !== undefined) {
      c.add('publish_failures', d.failed);
      this.progress.set(chunk, done);
      throw this.error(d.failure, d.failed, this.subjectAt(chunk, d.failedIndex));
    }
    this.progress.delete(chunk);
  }

  /** Returns how many lines were too large to send. */
  private async sendBlocks(w: AckWindow, d: ChunkDelivery, tag: string, blocks: readonly LineBlock[]): Promise<number> {
    const subject = this.subjectOf({ time: 0n, tag, body: '', meta: {} });
    const max = w.maxPayload - HEADER_ROOM;
    let tooBig = 0;
    let i = 0;
    for (const b of blocks) {
      for (let j = 0; j < b.count; j++, i++) {
        if (d.done[i]) continue;
        if (d.failure !== undefined) return tooBig;
        if (w.full) {
          await w.room();
          if (d.failure !== undefined) return tooBig;
        }
        const start = b.starts[j]!;
        const end = b.ends[j]!;
        if (end - start > max) {
          d.done[i] = 1;
          tooBig++;
          continue;
        }
        d.outstanding++;
        w.send(subject, b.buf.subarray(start, end), `${b.src}:${b.base + b.seqs[j]!}`, d, i);
      }
    }
    return tooBig;
  }

  private async sendRecords(w: AckWindow, d: ChunkDelivery, chunk: Chunk): Promise<number> {
    const recs = chunk.records;
    const max = w.maxPayload - HEADER_ROOM;
    const json = this.o.format === 'json';
    const perChunk = this.o.subjectPerChunk ? this.subjectOf(recs[0] ?? { time: 0n, tag: chunk.tag, body: '', meta: {} }) : undefined;
    let tooBig = 0;
    for (let i = 0; i < recs.length; i++) {
      if (d.done[i]) continue;
      if (d.failure !== undefined) return tooBig;
      if (w.full) {
        await w.room();
        if (d.failure !== undefined) return tooBig;
      }
      const r = recs[i]!;
      const data = Buffer.from(json ? jsonPayload(r) : recordLine(r));
      if (data.length > max) {
        d.done[i] = 1;
        tooBig++;
        continue;
      }
      const { src, seq } = r.meta;
      // Without src/seq, the chunk id (unique across restarts) still makes retries idempotent.
      const id = src !== undefined && seq !== undefined ? `${src}:${seq}` : `${chunk.id}:${i}`;
      d.outstanding++;
      w.send(perChunk ?? this.subjectOf(r), data, id, d, i);
    }
    return tooBig;
  }

  private subjectOf(r: LogRecord): string {
    const raw = this.o.subject(r);
    let s = this.subjects.get(raw);
    if (s === undefined) {
      if (this.subjects.size >= MAX_SUBJECTS_CACHED) this.subjects.clear();
      s = cleanSubject(raw);
      this.subjects.set(raw, s);
    }
    return s;
  }

  private subjectAt(chunk: Chunk, i: number): string {
    const blocks = lineBlocks(chunk);
    if (blocks) return this.subjectOf({ time: 0n, tag: chunk.tag, body: '', meta: {} });
    const r = chunk.records[i];
    return r ? this.subjectOf(r) : chunk.tag;
  }

  private error(f: Failure, count: number, subject: string): QlogError {
    const stream = this.o.stream;
    switch (f.kind) {
      case 'full':
        return new QlogError('QLOG_ERR_NATS_PUBLISH/full', { stream, count, reason: f.reason });
      case 'no-stream':
        return new QlogError('QLOG_ERR_NATS_PUBLISH/no-stream', { subject, stream });
      case 'other-stream':
        return new QlogError('QLOG_ERR_NATS_PUBLISH/other-stream', { subject, stream });
      case 'timeout':
        return new QlogError('QLOG_ERR_NATS_PUBLISH/timeout', { count, ms: this.o.publishTimeoutMs });
      case 'lost':
        return new QlogError('QLOG_ERR_NATS_PUBLISH/lost', { count, reason: f.reason });
      default:
        return new QlogError('QLOG_ERR_NATS_PUBLISH', { subject, stream, count, reason: f.reason, code: f.kind === 'rejected' ? f.code : 0 });
    }
  }
}
