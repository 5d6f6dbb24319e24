/**
 * Many Forward senders into one vsock input (the fan-in tests): each sender writes numbered lines
 * `<prefix><n> x...` in chunks, either as fast as its window of unacked chunks allows (like
 * vsock-forward with `workers`) or one chunk per tick at a modest pace. The input runs in a
 * harness whose output acks only when the test says (a slow output the test paces).
 */
import { connect } from '../../../core/transport/index.js';
import { encodeEntries, encodePackedForward, SenderSession } from '../../../core/forward/index.js';
import type { LogRecord } from '../../../core/record.js';
import { numbered } from '../../helpers/lines.js';

export const FANIN_LINE_BYTES = 40;

export class FanSender {
  /** Lines sent so far (the next chunk starts at sent + 1). */
  sent = 0;
  chunksSent = 0;
  acked = 0;
  private session!: SenderSession;
  private ackWaiters: (() => void)[] = [];

  constructor(
    readonly prefix: string,
    readonly chunkLines: number,
  ) {}

  async open(uri: string): Promise<this> {
    const stream = await connect(uri, { timeoutMs: 5000 });
    this.session = new SenderSession(stream, {
      selfHostname: this.prefix,
      heartbeatMs: 0,
      ackTimeoutMs: 120_000,
      onAck: () => {
        this.acked++;
        const w = this.ackWaiters;
        this.ackWaiters = [];
        for (const f of w) f();
      },
      onClose: () => undefined,
    });
    await this.session.ready;
    return this;
  }

  /** Send the next chunk of lines now. */
  sendChunk(): void {
    const from = this.sent + 1;
    const lines = numbered(this.prefix, from, from + this.chunkLines, FANIN_LINE_BYTES);
    const records: LogRecord[] = lines.map((body, i) => ({ time: 1_700_000_000_000_000_000n + BigInt(from + i), tag: 'app', body, meta: {} }));
    const id = `${this.prefix}${this.chunksSent}`;
    this.session.send(encodePackedForward('app', encodeEntries(records), { chunk: id, size: records.length }), id);
    this.sent += this.chunkLines;
    this.chunksSent++;
  }

  /** Send `chunks` chunks keeping at most `window` unacked; resolves when all are acked. */
  async flood(chunks: number, window: number, stop: () => boolean = () => false): Promise<void> {
    for (let i = 0; i < chunks && !stop(); i++) {
      while (this.chunksSent - this.acked >= window) await new Promise<void>((r) => this.ackWaiters.push(r));
      this.sendChunk();
    }
    await this.allAcked();
  }

  /** Send `chunks` chunks, one every `everyMs`, whatever the acks; resolves when all are acked. */
  async trickle(chunks: number, everyMs: number): Promise<void> {
    for (let i = 0; i < chunks; i++) {
      this.sendChunk();
      await new Promise((r) => setTimeout(r, everyMs));
    }
    await this.allAcked();
  }

  async allAcked(): Promise<void> {
    while (this.acked < this.chunksSent) await new Promise<void>((r) => this.ackWaiters.push(r));
  }

  close(): void {
    this.session.close(undefined);
  }
}

/** The prefix of a numbered line (`S03-`), or undefined. */
export function linePrefix(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  const i = body.indexOf('-');
  return i > 0 ? body.slice(0, i + 1) : undefined;
}
