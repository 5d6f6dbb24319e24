/**
 * The receiving end of one Forward connection (the protocol's "server" role, whichever side
 * opened the connection): optional shared_key handshake, frame size limit, event decoding,
 * acks, heartbeat-based dead-peer detection. What to do with the events is the caller's business.
 */
import type { Duplex } from 'node:stream';
import type { PeerIdentity } from '../transport/index.js';
import { decodeEvents, encodeAck, unpackFrame, type DecodedEvents } from './codec.js';
import { FrameDecoder } from './frame-decoder.js';
import { EntryReader } from './entry-decoder.js';
import { checkPing, encodeHelo, encodePong, newHelo, type ForwardUser, type Helo } from './handshake.js';
import { RawDecodeError, unpackRaw } from './msgpack-raw.js';
import { QlogError } from '../errors.js';
import { releaseBuffer } from '../buffer-pool.js';

export interface ReceiverSessionOptions {
  /** Require the HELO/PING/PONG handshake with this key. */
  sharedKey?: string;
  /** With sharedKey: also require one of these users (username/password) in PING. */
  users?: readonly ForwardUser[];
  /** Our hostname in PONG. */
  selfHostname: string;
  maxFrameSize: number;
  /** Largest decompressed CompressedPackedForward payload (default 4 x maxFrameSize). */
  maxDecompressed?: number;
  /** Least silence (ms) before a heartbeating peer is dropped (default 5000). */
  minSilenceMs?: number;
  /**
   * Drop a peer that has not completed the handshake in this time (default 10 s). The same
   * limit drops a peer that completes no message within it of connecting, or leaves a frame
   * incomplete for longer (idle or trickling rogues must not hold a connection slot and a
   * partial frame's memory forever). Not applied while we are paused (then the stall is ours).
   */
  handshakeTimeoutMs?: number;
  /**
   * Hand PackedForward entries that are all plain lines over undecoded (DecodedEvents.lines)
   * instead of as records.
   */
  lines?: boolean;
  /** Where buffers for messages that span reads come from (see takeMessage). */
  alloc?: (size: number) => Buffer;
  /** A data frame arrived (after the handshake). Throwing drops the peer. */
  onEvents(ev: DecodedEvents, session: ReceiverSession): void;
  /**
   * The connection is gone. Called once. `reason` says why; `dropped` is true when we dropped
   * the peer for what it sent (bad frame, wrong key, silence), false when the connection broke
   * or closed.
   */
  onClose(session: ReceiverSession, reason: string | undefined, dropped: boolean): void;
}

/** A peer that sent heartbeats is dropped after this many intervals of silence (and at least 5 s). */
export const HEARTBEAT_MISSES = 3;
const MIN_SILENCE_MS = 5000;

export class ReceiverSession {
  private readonly decoder: FrameDecoder;
  private readonly reader = new EntryReader();
  private state: 'ping' | 'ready' | 'closed';
  private readonly helo?: Helo;
  private timer?: NodeJS.Timeout;
  private heartbeatMs = 0;
  private lastData = Date.now();
  private isPaused = false;
  private readonly stallTimer: NodeJS.Timeout;
  /** When the frame now pending started arriving (0: none pending). */
  private frameStarted = 0;
  private frames = 0;
  private readonly connectedAt = Date.now();
  /** Hostname the peer gave in PING (with shared_key). */
  clientHostname?: string;

  constructor(
    readonly stream: Duplex,
    readonly peer: PeerIdentity,
    private readonly o: ReceiverSessionOptions,
  ) {
    // A read buffer the decoder is done with is freed at once (when it is a buffer of its own, and
    // no other listener got it). Otherwise it is garbage until a GC, and a receiver that copies
    // lines as bytes allocates too little to collect often: ~10-20 MiB of read buffers piled up
    // between collections on a burst.
    this.decoder = new FrameDecoder({
      maxFrameSize: o.maxFrameSize,
      alloc: o.alloc,
      done: (d) => {
        if (this.stream.listenerCount('data') === 1) releaseBuffer(d);
      },
    });
    stream.on('data', (d: Buffer) => this.onData(d));
    stream.on('error', (err: Error) => this.finish(`connection error: ${err.message}`, false));
    stream.on('close', () => this.finish(undefined, false));
    if (o.sharedKey !== undefined) {
      this.state = 'ping';
      this.helo = newHelo((o.users?.length ?? 0) > 0);
      stream.write(encodeHelo(this.helo));
      const ms = o.handshakeTimeoutMs ?? 10_000;
      this.timer = setTimeout(() => this.close(new QlogError('QLOG_ERR_FORWARD_HANDSHAKE/ping-timeout', { ms }).message), ms);
    } else this.state = 'ready';
    const stallMs = o.handshakeTimeoutMs ?? 10_000;
    this.stallTimer = setInterval(() => this.checkStall(stallMs), Math.max(100, Math.min(1000, stallMs / 4)));
    this.stallTimer.unref();
  }

  private checkStall(ms: number): void {
    if (this.isPaused || this.state === 'closed') return;
    const now = Date.now();
    if (this.frameStarted && now - this.frameStarted > ms) this.close(`a message stayed incomplete for more than ${ms} ms (connect_timeout)`);
    else if (this.frames === 0 && now - this.connectedAt > ms) this.close(`no complete message within ${ms} ms of connecting (connect_timeout)`);
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get paused(): boolean {
    return this.isPaused;
  }

  /**
   * During onEvents: the buffer holding the message (and so `lines.entries`), given over for
   * good when it came from `alloc`, else undefined (copy what you keep). See FrameDecoder.take.
   */
  takeMessage(): Buffer | undefined {
    return this.decoder.take();
  }

  /** Tell the sender the chunk is safe: `{ack: value}` with the chunk option exactly as received. */
  ack(value: unknown): void {
    if (this.state === 'closed' || this.stream.destroyed || !this.stream.writable) return;
    this.stream.write(encodeAck(value));
  }

  /** Stop reading (backpressure). The heartbeat watchdog is off while paused. */
  pause(): void {
    this.isPaused = true;
    this.stream.pause();
  }

  resume(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    this.lastData = Date.now();
    if (this.frameStarted) this.frameStarted = this.lastData;
    if (this.state !== 'closed') this.stream.resume();
  }

  /** Drop the peer now for `reason` (reported through onClose with dropped = true). */
  close(reason: string): void {
    if (this.finish(reason, true)) this.stream.destroy();
  }

  /** Orderly close: acks already written still go out, then the connection ends. */
  shutdown(): void {
    if (!this.finish(undefined, false)) return;
    this.stream.end();
    this.stream.resume(); // read (and discard) until the peer's FIN
    setTimeout(() => this.stream.destroy(), 2000).unref();
  }

  private finish(reason: string | undefined, dropped: boolean): boolean {
    if (this.state === 'closed') return false;
    this.state = 'closed';
    clearTimeout(this.timer);
    clearInterval(this.timer);
    clearInterval(this.stallTimer);
    this.decoder.reset();
    this.o.onClose(this, reason, dropped);
    return true;
  }

  private onData(d: Buffer): void {
    if (this.state === 'closed') return;
    this.lastData = Date.now();
    const before = this.frames;
    try {
      this.decoder.push(d, (frame) => {
        this.frames++;
        if (this.state !== 'closed') this.onFrame(frame);
      });
    } catch (err) {
      this.close((err as Error).message);
      return;
    }
    if (!this.decoder.pending) this.frameStarted = 0;
    else if (!this.frameStarted || this.frames !== before) this.frameStarted = this.lastData;
  }

  private onFrame(frame: Buffer): void {
    if (this.state === 'ping') return this.onPing(frame);
    const msg = unpackFrame(frame);
    const ev = decodeEvents(msg, { maxDecompressed: this.o.maxDecompressed ?? 4 * this.o.maxFrameSize, reader: this.reader, lines: this.o.lines });
    if (ev.heartbeatMs !== undefined) {
      this.watch(ev.heartbeatMs);
      if (ev.ackValue !== undefined) this.ack(ev.ackValue);
      return;
    }
    this.o.onEvents(ev, this);
  }

  /** The handshake's answer to our HELO: PONG accepting it, or PONG refusing it and a drop. */
  private onPing(frame: Buffer): void {
    let msg: unknown;
    try {
      msg = unpackRaw(frame);
    } catch (err) {
      if (!(err instanceof RawDecodeError)) throw err;
      msg = undefined;
    }
    const key = this.o.sharedKey!;
    const r = checkPing(msg, this.helo!, key, this.o.users ?? []);
    clearTimeout(this.timer);
    if (!r.ok) {
      // Tell the peer why (Fluent clients log it), then drop it once the PONG is out.
      if (r.pongReason) this.stream.write(encodePong({ refused: r.pongReason }));
      if (this.finish(r.error.message, true)) {
        this.stream.end();
        setTimeout(() => this.stream.destroy(), 1000).unref();
      }
      return;
    }
    this.clientHostname = r.hostname;
    this.stream.write(encodePong({ hostname: this.o.selfHostname, salt: r.salt, nonce: this.helo!.nonce, key }));
    this.state = 'ready';
  }

  /** Arm (or re-arm) the dead-peer watchdog for a peer that heartbeats every `ms`. */
  private watch(ms: number): void {
    if (!(ms > 0) || ms === this.heartbeatMs) return;
    this.heartbeatMs = ms;
    clearInterval(this.timer);
    const limit = Math.max(HEARTBEAT_MISSES * ms, this.o.minSilenceMs ?? MIN_SILENCE_MS);
    this.timer = setInterval(
      () => {
        if (!this.isPaused && Date.now() - this.lastData > limit) this.close(`no data or heartbeat for ${limit} ms (peer heartbeats every ${ms} ms)`);
      },
      Math.min(ms, 1000),
    );
    this.timer.unref();
  }
}
