/**
 * Several receivers (`upstream:`): one ForwardLink per node, each with its own connection, window
 * and backoff, and the routing of chunks over the nodes that are up.
 *
 * Chunks are routed by stream (failover: one stream; round_robin: one per tag). A stream is on one
 * node at a time and changes node only when nothing of it is unacknowledged, or when its node is
 * lost, and then its unacknowledged chunks move with it, first and in order. So every node receives
 * each stream's chunks in send order, never a chunk older than one it already has: a receiver that
 * drops records at or below its per-source high-water mark (rotated-file's src/seq) drops only real
 * duplicates, never a chunk it did not write. Moved chunks keep their ids and their promises: each
 * is resolved once, by the first ack of any node.
 */
import type { Counters } from '../../core/index.js';
import { ForwardLink, type LinkOptions, type Pending } from './vsock-forward-link.js';

export type Balance = 'failover' | 'round_robin';

export interface UpstreamOptions extends Omit<LinkOptions, 'connect' | 'listen' | 'onState' | 'counters'> {
  upstream: readonly string[];
  balance: Balance;
  counters: Counters;
}

interface Stream {
  /** Its key in UpstreamLink.streams (removed once nothing of it is held or in flight). */
  key: string;
  /** Index of the node the stream's chunks go to. */
  node: number;
  /** Chunks of the stream given to a node and not yet acknowledged. */
  inflight: number;
  /** Chunks waiting to be given to a node (failover: while draining before a fail-back). */
  held: Held[];
}

interface Held {
  id: string;
  frame: Buffer;
  resolve(): void;
  reject(err: Error): void;
}

/** Instance counters with a `node<i>_` prefix; events also count in the instance's totals. */
function nodeCounters(c: Counters, i: number, totals: () => void): Counters {
  const prefix = `node${i}_`;
  return {
    add: (name, n = 1) => {
      c.add(prefix + name, n);
      c.add(name, n);
    },
    set: (name, v) => {
      c.set(prefix + name, v);
      totals();
    },
    get: (name) => c.get(prefix + name),
    snapshot: () => c.snapshot(),
    addSeries: (source) => c.addSeries(source),
  };
}

export class UpstreamLink {
  private readonly nodes: ForwardLink[];
  private readonly streams = new Map<string, Stream>();
  /** Chunk id -> its stream and delivery promise (a chunk sent again while in flight joins it). */
  private readonly chunks = new Map<string, { stream: Stream; done: Promise<void> }>();
  /** round_robin: the node after the last one picked. */
  private next = 0;
  /** require_ack false, no node up: frames wait here for the first node that comes up. */
  private waiting: { frame: Buffer; done: (err?: Error | null) => void }[] = [];
  private stopped = false;

  constructor(private readonly o: UpstreamOptions) {
    const totals = (): void => {
      for (const g of ['inflight_chunks', 'inflight_bytes'])
        o.counters.set(
          g,
          this.nodes.reduce((sum, _, i) => sum + o.counters.get(`node${i}_${g}`), 0),
        );
    };
    this.nodes = o.upstream.map(
      (connect, i) =>
        new ForwardLink({
          ...o,
          connect,
          listen: '',
          name: `${o.name}[${i}]`,
          counters: nodeCounters(o.counters, i, totals),
          onState: (up) => this.onState(i, up),
        }),
    );
    for (let i = 0; i < this.nodes.length; i++) o.counters.set(`node${i}_up`, 0);
  }

  async start(): Promise<void> {
    for (const n of this.nodes) await n.start();
  }

  /** Stop every node; chunks held or in flight stay unsettled (see ForwardLink.stop). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  /** Send one encoded chunk of `stream`; resolves when a node acknowledged it. */
  send(id: string, frame: Buffer, stream: string): Promise<void> {
    if (!this.o.requireAck) return this.sendUnacked(frame); // settled once written: nothing to move
    if (this.stopped) return new Promise<void>(() => {});
    const known = this.chunks.get(id);
    if (known) return known.done;
    const s = this.stream(stream);
    const done = new Promise<void>((resolve, reject) => s.held.push({ id, frame, resolve, reject }));
    this.chunks.set(id, { stream: s, done });
    this.drain(s);
    return done;
  }

  /**
   * Without acks: to a node that is up, or, none up, held here until one is (a frame must not wait
   * for one particular node that may never come back). A node that goes down gives back the frames
   * it had not written yet (onState).
   */
  private sendUnacked(frame: Buffer): Promise<void> {
    if (this.stopped) return new Promise<void>(() => {});
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (this.nodes.some((n) => n.up)) this.nodes[this.pick(undefined)]!.sendFrame(frame, done);
      else this.waiting.push({ frame, done });
    });
  }

  private stream(key: string): Stream {
    let s = this.streams.get(key);
    if (!s) {
      s = { key, node: 0, inflight: 0, held: [] }; // placed by drain(): nothing in flight yet
      this.streams.set(key, s);
    }
    return s;
  }

  /**
   * The node for a stream that is free to move (nothing in flight): failover, the first node up
   * in list order; round_robin, the next node up after the last one picked. None up: stay.
   */
  private pick(s: Stream | undefined): number {
    const n = this.nodes.length;
    const start = this.o.balance === 'failover' ? 0 : this.next;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      if (this.nodes[i]!.up) {
        if (this.o.balance === 'round_robin') this.next = (i + 1) % n;
        return i;
      }
    }
    return s?.node ?? 0;
  }

  /** Give a stream's held chunks to its node, moving the stream first when it may. */
  private drain(s: Stream): void {
    while (s.held.length && !this.stopped) {
      if (s.inflight === 0) s.node = this.pick(s);
      // failover: a node earlier in the list is back; wait for the stream to drain, then move.
      else if (this.o.balance === 'failover' && this.pick(s) !== s.node && this.nodes[s.node]!.up) break;
      const h = s.held.shift()!;
      s.inflight++;
      this.nodes[s.node]!.send(h.id, h.frame).then(
        () => this.settled(s, h.id, h.resolve),
        (err: Error) => {
          this.chunks.delete(h.id);
          s.inflight--;
          h.reject(err);
          this.forget(s);
        },
      );
    }
  }

  private settled(s: Stream, id: string, resolve: () => void): void {
    this.chunks.delete(id);
    s.inflight--;
    resolve();
    this.drain(s);
    this.forget(s);
  }

  /** A stream with nothing held or in flight is dropped (tags come and go: rotated file names). */
  private forget(s: Stream): void {
    if (s.inflight === 0 && !s.held.length && this.streams.get(s.key) === s) this.streams.delete(s.key);
  }

  private onState(i: number, up: boolean): void {
    this.o.counters.set(`node${i}_up`, up ? 1 : 0);
    if (this.stopped) return;
    if (!this.o.requireAck) return this.rehome(i, up);
    if (!up) this.evacuate(i);
    else for (let j = 0; j < this.nodes.length; j++) if (j !== i && !this.nodes[j]!.up) this.evacuate(j);
    for (const s of this.streams.values()) this.drain(s);
  }

  /** Without acks: frames waiting for a node go to the first node up (node i when it comes up). */
  private rehome(i: number, up: boolean): void {
    const frames = up ? this.waiting.splice(0) : this.nodes[i]!.takeUnsent();
    for (const f of frames) {
      if (this.nodes.some((n) => n.up)) this.nodes[this.pick(undefined)]!.sendFrame(f.frame, f.done);
      else this.waiting.push(f);
    }
  }

  /**
   * Node i is down: move its streams, and the chunks it has not had acknowledged, to nodes that are
   * up. None up: they stay and go to whichever node is up first (node i included, as a resend).
   */
  private evacuate(i: number): void {
    const moving = [...this.streams.values()].filter((s) => s.node === i && s.inflight > 0);
    if (!moving.length || !this.nodes.some((n) => n.up)) return;
    for (const s of moving) s.node = this.pick(s);
    const taken = this.nodes[i]!.takeUnacked();
    const byNode = new Map<number, Pending[]>();
    for (const p of taken) {
      const to = this.chunks.get(p.id)?.stream.node ?? this.pick(undefined);
      let list = byNode.get(to);
      if (!list) byNode.set(to, (list = []));
      list.push(p);
    }
    for (const [to, list] of byNode) {
      this.nodes[to]!.adopt(list);
      this.o.counters.add('moved_chunks', list.length);
      this.o.counters.add(`node${i}_moved_chunks`, list.length);
      this.o.log.warn(`${this.o.name}: ${list.length} chunks not acknowledged by ${this.o.upstream[i]} go to ${this.o.upstream[to]}`);
    }
  }
}
