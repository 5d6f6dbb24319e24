/**
 * The sending end of one Forward connection (the protocol's "client" role, whichever side
 * opened the connection): optional shared_key handshake, frames out, `{ack}` in, heartbeats
 * when idle, and a watchdog that drops the connection when an ack is overdue.
 */
import type { Duplex } from 'node:stream';
import { encodeHeartbeat, unpackFrame } from './codec.js';
import { FrameDecoder } from './frame-decoder.js';
import { checkPong, encodePing, newSalt, parseHelo, type Helo } from './handshake.js';
import { unpackRaw } from './msgpack-raw.js';
import { QlogError } from '../errors.js';

export interface SenderSessionOptions {
  /** Answer the receiver's HELO with this key. Without it a HELO is an error. */
  sharedKey?: string;
  /** Sent in PING when the receiver asks for users (its HELO carries an auth salt). */
  username?: string;
  password?: string;
  /** Our hostname in PING. */
  selfHostname: string;
  /** Send a heartbeat after this long without writing (0 = never). */
  heartbeatMs: number;
  /** Drop the connection when an ack (of data or heartbeat) is this late. */
  ackTimeoutMs: number;
  /** Time allowed for HELO/PING/PONG (default 10 s). */
  handshakeTimeoutMs?: number;
  onAck(chunk: string): void;
  /** The connection is gone; `reason` says why when we dropped it. Called once. */
  onClose(reason: string | undefined): void;
}

const HEARTBEAT_PREFIX = '_qlog.hb.';
const MAX_REPLY_FRAME = 64 * 1024;
let heartbeatSeq = 0;

export class SenderSession {
  private readonly decoder = new FrameDecoder({ maxFrameSize: MAX_REPLY_FRAME });
  private state: 'helo' | 'pong' | 'ready' | 'closed';
  private salt = '';
  private helo?: Helo;
  /** chunk id -> time sent; insertion order = oldest first. */
  private readonly awaiting = new Map<string, number>();
  private readonly heartbeats = new Set<string>();
  private lastWrite = Date.now();
  private readonly ticker: NodeJS.Timeout;
  private handshakeTimer?: NodeJS.Timeout;
  private readyResolve!: () => void;
  private readyReject!: (err: Error) => void;
  /** Resolves once frames may be sent; rejects if the connection closes first. */
  readonly ready: Promise<void>;
  /** The receiver's hostname from PONG (with shared_key). */
  serverHostname?: string;

  constructor(
    readonly stream: Duplex,
    private readonly o: SenderSessionOptions,
  ) {
    this.ready = new Promise((res, rej) => {
      this.readyResolve = res;
      this.readyReject = rej;
    });
    this.ready.catch(() => {});
    stream.on('data', (d: Buffer) => this.onData(d));
    // A receiver that closes right after our PING refused it without a word (Fluent Bit does on a
    // shared_key mismatch): say so, not just "closed".
    const afterPing = (): string | undefined => (this.state === 'pong' ? new QlogError('QLOG_ERR_FORWARD_AUTH/closed-after-ping').message : undefined);
    stream.on('error', (err: Error) => this.close(afterPing() ?? `connection error: ${err.message}`));
    stream.on('close', () => this.close(afterPing() ?? 'connection closed by the peer'));
    if (o.sharedKey !== undefined) {
      this.state = 'helo';
      const ms = o.handshakeTimeoutMs ?? 10_000;
      this.handshakeTimer = setTimeout(
        () =>
          this.close(
            new QlogError(this.state === 'helo' ? 'QLOG_ERR_FORWARD_HANDSHAKE/helo-timeout' : 'QLOG_ERR_FORWARD_HANDSHAKE/pong-timeout', { ms }).message,
          ),
        ms,
      );
    } else {
      this.state = 'ready';
      this.readyResolve();
    }
    // Fine enough that a heartbeat goes out at most ~1.25 intervals after the last write.
    const tick = Math.max(25, Math.min(1000, (o.heartbeatMs || 4000) / 4, o.ackTimeoutMs / 4));
    this.ticker = setInterval(() => this.tick(), tick);
    this.ticker.unref();
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Chunks sent on this connection whose ack has not come yet. */
  get unacked(): number {
    return this.awaiting.size;
  }

  /**
   * Write a frame; with `chunk`, expect `{ack: chunk}` within ackTimeoutMs. Returns what
   * stream.write returned (false = the kernel buffer is full, wait for 'drain').
   */
  send(frame: Buffer, chunk?: string, onWritten?: (err?: Error | null) => void): boolean {
    if (this.state !== 'ready') {
      onWritten?.(new Error('not connected'));
      return false;
    }
    if (chunk !== undefined) {
      this.awaiting.delete(chunk);
      this.awaiting.set(chunk, Date.now());
    }
    this.lastWrite = Date.now();
    return this.stream.write(frame, onWritten);
  }

  close(reason: string | undefined): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.ticker);
    clearTimeout(this.handshakeTimer);
    this.awaiting.clear();
    this.heartbeats.clear();
    this.stream.destroy();
    this.readyReject(new Error(reason ?? 'connection closed'));
    this.o.onClose(reason);
  }

  private tick(): void {
    if (this.state !== 'ready') return;
    const now = Date.now();
    for (const [chunk, sent] of this.awaiting) {
      if (now - sent > this.o.ackTimeoutMs) this.close(`no ack for chunk ${chunk} within ${this.o.ackTimeoutMs} ms`);
      break; // only the oldest matters
    }
    if (this.state === 'ready' && this.o.heartbeatMs > 0 && now - this.lastWrite >= this.o.heartbeatMs) {
      const id = `${HEARTBEAT_PREFIX}${(heartbeatSeq++).toString(36)}`;
      this.heartbeats.add(id);
      this.send(encodeHeartbeat(id, this.o.heartbeatMs), id);
    }
  }

  private onData(d: Buffer): void {
    if (this.state === 'closed') return;
    try {
      this.decoder.push(d, (frame) => {
        if (this.state === 'helo' || this.state === 'pong') this.onHandshake(unpackRaw(frame));
        else if (this.state !== 'closed') this.onFrame(unpackFrame(frame));
      });
    } catch (err) {
      this.close(`bad reply from the receiver: ${(err as Error).message}`);
    }
  }

  /** HELO then PONG, read as raw bytes (nonce and auth may be any bytes, in a str or a bin). */
  private onHandshake(msg: unknown): void {
    const cred = { key: this.o.sharedKey!, username: this.o.username, password: this.o.password };
    if (this.state === 'helo') {
      const h = parseHelo(msg);
      if (!h.ok) return this.close(h.error.message);
      this.helo = h.helo;
      this.salt = newSalt();
      this.state = 'pong';
      this.stream.write(encodePing(this.o.selfHostname, this.salt, h.helo, cred));
      return;
    }
    const p = checkPong(msg, this.salt, this.helo!, cred);
    if (!p.ok) return this.close(p.error.message);
    clearTimeout(this.handshakeTimer);
    this.serverHostname = p.hostname;
    this.state = 'ready';
    this.readyResolve();
  }

  private onFrame(msg: unknown): void {
    if (Array.isArray(msg) && msg[0] === 'HELO') return this.close(new QlogError('QLOG_ERR_FORWARD_HANDSHAKE/unexpected-helo').message);
    const ack = (msg as { ack?: unknown } | null)?.ack;
    if (typeof msg !== 'object' || msg === null || ack === undefined) return this.close('unexpected frame from the receiver (expected {ack: chunk})');
    const chunk = typeof ack === 'string' ? ack : ack instanceof Uint8Array ? Buffer.from(ack).toString('base64') : String(ack);
    if (!this.awaiting.delete(chunk)) return; // a late duplicate ack
    if (!this.heartbeats.delete(chunk)) this.o.onAck(chunk);
  }
}
