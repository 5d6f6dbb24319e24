/**
 * The sender's side of the link: one connection at a time (dialed, or the newest accepted one),
 * a bounded window of chunks sent and not yet acknowledged, and the resend of that window, in
 * the original order and with the same chunk ids, whenever a new connection is up.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Counters } from '../../core/index.js';
import { SenderSession } from '../../core/forward/index.js';
import { Endpoint, type PeerIdentity, type TlsOptions, widenSendBuffer } from '../../core/transport/index.js';

export interface LinkOptions {
  connect: string;
  listen: string;
  /** tls:// settings, and the directory their relative file paths resolve against. */
  tls?: TlsOptions;
  baseDir?: string;
  sharedKey?: string;
  /** Sent in PING when the receiver has users. */
  username?: string;
  password?: string;
  selfHostname: string;
  requireAck: boolean;
  maxInflightBytes: number;
  maxInflightChunks: number;
  /** Send buffer asked of the kernel for each connection (unix, tcp, hybrid; vsock-forward: max_frame_size, so a whole message fits). Unset: the kernel's default. */
  sendBuffer?: number;
  connectTimeoutMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  heartbeatMs: number;
  ackTimeoutMs: number;
  log: Logger;
  counters: Counters;
  name: string;
  /** The link became usable (handshake done, window resent) or stopped being usable. */
  onState?(up: boolean): void;
}

/** A chunk sent (or to send) and not acknowledged; moves between links as a whole (upstream). */
export interface Pending {
  readonly id: string;
  readonly frame: Buffer;
  /** Written on some connection already (a later send is a resend). */
  sent?: boolean;
  resolve(): void;
  reject(err: Error): void;
}

export class ForwardLink {
  private readonly endpoint: Endpoint;
  private session?: SenderSession;
  private peer?: PeerIdentity;
  /** Sent (or to send) and not acknowledged; insertion order = send order. */
  private readonly window = new Map<string, Pending>();
  private windowBytes = 0;
  /** Chunks waiting for room in the window, in flush order (admitted strictly FIFO). */
  private queue: Pending[] = [];
  /** The current session finished its handshake (frames may go out). */
  private ready = false;
  /** require_ack false: frames waiting for a connection. */
  private unsent: { frame: Buffer; done: (err?: Error | null) => void }[] = [];
  private stopped = false;

  constructor(private readonly o: LinkOptions) {
    this.endpoint = new Endpoint({
      connect: o.connect,
      listen: o.listen,
      tls: o.tls,
      baseDir: o.baseDir,
      connectTimeoutMs: o.connectTimeoutMs,
      reconnectBaseMs: o.reconnectBaseMs,
      reconnectMaxMs: o.reconnectMaxMs,
      log: o.log,
      name: o.name,
      onConnection: (s, peer) => this.attach(s, peer),
      onDialError: () => o.counters.add('connect_errors'),
    });
  }

  start(): Promise<void> {
    return this.endpoint.start();
  }

  get connected(): boolean {
    return this.session !== undefined && !this.session.closed;
  }

  /** Connected and past the handshake: a frame given now goes out now. */
  get up(): boolean {
    return this.ready && this.connected;
  }

  /**
   * Remove every chunk not acknowledged (the window in send order, then the queue) and hand them
   * over, promises and all, to another link (adopt()). Their ids stay: a receiver that already
   * has one acks it again.
   */
  takeUnacked(): Pending[] {
    const taken = [...this.window.values(), ...this.queue];
    this.window.clear();
    this.windowBytes = 0;
    this.queue = [];
    this.gauges();
    return taken;
  }

  /** Without acks: remove the frames waiting for this link's connection, to send them elsewhere. */
  takeUnsent(): { frame: Buffer; done: (err?: Error | null) => void }[] {
    const taken = this.unsent;
    this.unsent = [];
    return taken;
  }

  /** Without acks: send a frame another link could not (its done is called once written). */
  sendFrame(frame: Buffer, done: (err?: Error | null) => void): void {
    if (this.session && !this.session.closed && this.ready) this.session.send(frame, undefined, done);
    else this.unsent.push({ frame, done });
  }

  /** Take over chunks another link held (after the window, in their order). */
  adopt(chunks: readonly Pending[]): void {
    if (this.stopped) return; // left unsettled: see stop()
    this.queue.push(...chunks);
    this.pump();
  }

  /**
   * Stop: close the connection. Flushes still waiting are left pending on purpose: settling them
   * (even as failed) would let the inputs commit records the receiver never acknowledged; left
   * unsettled, tail reads them again after the restart.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.endpoint.stop();
    this.session?.close(undefined);
    const left = this.window.size + this.queue.length + this.unsent.length;
    if (left) this.o.log.warn(`${this.o.name}: stopping with ${left} chunks not acknowledged by the receiver; they are sent again after a restart`);
    this.window.clear();
    this.windowBytes = 0;
    this.queue = [];
    this.unsent = [];
    this.gauges();
  }

  /** Send one encoded chunk; resolves when the receiver acked it (or it was written, without acks). */
  send(id: string, frame: Buffer): Promise<void> {
    if (!this.o.requireAck) return this.sendUnacked(frame);
    if (this.stopped) return new Promise<void>(() => {}); // never settled: see stop()
    const existing = this.window.get(id) ?? this.queue.find((p) => p.id === id);
    if (existing) return new Promise((resolve, reject) => this.chain(existing, resolve, reject));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ id, frame, resolve, reject });
      this.pump();
    });
  }

  /** Move queued chunks into the window while there is room, and send them if connected. */
  private pump(): void {
    while (this.queue.length && this.hasRoom(this.queue[0]!.frame.length)) {
      const p = this.queue.shift()!;
      this.window.set(p.id, p);
      this.windowBytes += p.frame.length;
      if (this.session && !this.session.closed && this.ready) {
        if (p.sent) this.o.counters.add('resent_chunks'); // adopted from another link
        p.sent = true;
        this.session.send(p.frame, p.id);
      }
    }
    this.gauges();
  }

  private chain(p: Pending, resolve: () => void, reject: (e: Error) => void): void {
    const r0 = p.resolve;
    const j0 = p.reject;
    p.resolve = () => {
      r0();
      resolve();
    };
    p.reject = (e) => {
      j0(e);
      reject(e);
    };
  }

  private hasRoom(bytes: number): boolean {
    if (this.window.size >= this.o.maxInflightChunks) return false;
    // An empty window takes any chunk, so one bigger than max_inflight still goes out.
    return this.window.size === 0 || this.windowBytes + bytes <= this.o.maxInflightBytes;
  }

  private gauges(): void {
    this.o.counters.set('inflight_chunks', this.window.size);
    this.o.counters.set('inflight_bytes', this.windowBytes);
  }

  private sendUnacked(frame: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sendFrame(frame, (err) => {
        if (err) return reject(err);
        this.endpoint.progressed();
        resolve();
      });
    });
  }

  private onAck(id: string): void {
    const p = this.window.get(id);
    if (!p) return;
    this.window.delete(id);
    this.windowBytes -= p.frame.length;
    this.o.counters.add('acks');
    this.endpoint.progressed();
    p.resolve();
    this.pump();
  }

  /** A new connection: it replaces the current one; the window is resent on it once ready. */
  private attach(stream: Duplex, peer: PeerIdentity): Promise<void> {
    if (this.stopped) {
      stream.destroy();
      return Promise.resolve();
    }
    const old = this.session;
    if (old && !old.closed) {
      this.o.log.info(`${this.o.name}: new connection from ${peer.label} replaces the one from ${this.peer?.label}`);
      old.close('replaced by a newer connection');
    }
    this.ready = false;
    this.peer = peer;
    if (this.o.sendBuffer) widenSendBuffer(stream, this.o.sendBuffer);
    return new Promise<void>((closed) => {
      const session = new SenderSession(stream, {
        sharedKey: this.o.sharedKey,
        username: this.o.username,
        password: this.o.password,
        selfHostname: this.o.selfHostname,
        heartbeatMs: this.o.heartbeatMs,
        ackTimeoutMs: this.o.ackTimeoutMs,
        handshakeTimeoutMs: this.o.connectTimeoutMs,
        onAck: (id) => this.onAck(id),
        onClose: (reason) => {
          if (this.session === session) {
            this.session = undefined;
            this.ready = false;
            if (!this.stopped) {
              this.o.counters.add('disconnects');
              this.o.log.warn(`${this.o.name}: connection to ${peer.label} lost${reason ? `: ${reason}` : ''}; ${this.window.size} chunks to resend`);
              this.o.onState?.(false);
            }
          }
          closed();
        },
      });
      this.session = session;
      session.ready.then(
        () => {
          if (this.session !== session) return;
          this.ready = true;
          this.o.counters.add('connections');
          this.o.log.info(`${this.o.name}: connected to ${peer.label}${session.serverHostname ? ` (${session.serverHostname})` : ''}`);
          let resent = 0;
          for (const p of this.window.values()) {
            if (p.sent) resent++;
            p.sent = true;
            session.send(p.frame, p.id);
          }
          if (resent) {
            this.o.counters.add('resent_chunks', resent);
            this.o.log.info(`${this.o.name}: resent ${resent} unacknowledged chunks`);
          }
          const unsent = this.unsent;
          this.unsent = [];
          for (const u of unsent) session.send(u.frame, undefined, u.done);
          this.o.onState?.(true);
        },
        () => undefined,
      );
    });
  }
}
