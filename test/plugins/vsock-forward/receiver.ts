/** A test-side Forward receiver with manual acks, for the vsock-forward output's tests. */
import type { Duplex } from 'node:stream';
import { connect, listen, type Listener, type PeerIdentity } from '../../../core/transport/index.js';
import { ReceiverSession, type DecodedEvents } from '../../../core/forward/index.js';

export interface Frame {
  ev: DecodedEvents;
  session: ReceiverSession;
}

export class TestReceiver {
  readonly frames: Frame[] = [];
  readonly sessions: ReceiverSession[] = [];
  readonly drops: string[] = [];
  listener?: Listener;
  constructor(private readonly opts: { autoAck?: boolean; sharedKey?: string; users?: { username: string; password: string }[]; maxFrameSize?: number } = {}) {}

  attach(stream: Duplex, peer: PeerIdentity): ReceiverSession {
    const s = new ReceiverSession(stream, peer, {
      sharedKey: this.opts.sharedKey,
      users: this.opts.users,
      selfHostname: 'test-receiver',
      maxFrameSize: this.opts.maxFrameSize ?? 1 << 24,
      onEvents: (ev, session) => {
        this.frames.push({ ev, session });
        if (this.opts.autoAck && ev.ackValue !== undefined) session.ack(ev.ackValue);
      },
      onClose: (_s, reason, dropped) => {
        if (dropped) this.drops.push(reason ?? '');
      },
    });
    this.sessions.push(s);
    return s;
  }

  async listen(uri: string): Promise<string> {
    this.listener = await listen(uri, (s, p) => this.attach(s, p));
    return this.listener.uri;
  }

  async connect(uri: string): Promise<ReceiverSession> {
    const s = await connect(uri, { timeoutMs: 2000 });
    return this.attach(s, { transport: 'unix', label: uri });
  }

  /** Ack every frame received so far (on the connection it came on, if still open). */
  ackAll(): void {
    for (const f of this.frames.splice(0)) if (f.ev.ackValue !== undefined) f.session.ack(f.ev.ackValue);
  }

  /** Chunk ids of the frames received so far, in order. */
  get ids(): (string | undefined)[] {
    return this.frames.map((f) => f.ev.chunk);
  }

  get open(): ReceiverSession[] {
    return this.sessions.filter((s) => !s.closed);
  }

  cutAll(): void {
    for (const s of this.open) s.close('cut by the test');
  }

  async close(): Promise<void> {
    this.cutAll();
    await this.listener?.close();
  }
}
