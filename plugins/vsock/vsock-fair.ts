/**
 * Fair service for the vsock input's connections. Each connection has its own bound on the
 * memory of records it emitted that are not yet settled (peer_buffer_limit): a connection over
 * it stops being read alone, so TCP/vsock backpressure reaches that sender only while the others
 * keep flowing, and a flooder can hold at most its share of the outputs' buffers. When
 * downstream as a whole is full every connection stops; on resume the least loaded ones are
 * resumed first (their buffered data is read first), with ties taken in turn.
 */
import type { PeerStats } from './vsock-peer-stats.js';

/** What the intake drives on a connection: ReceiverSession's pause/resume. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/** One connection's share: bytes in flight and why it is not being read. */
export class Flow {
  inflight = 0;
  /** Over peer_buffer_limit: paused until its chunks settle below it. */
  overLimit = false;
  /** Whether the connection is paused now (for whatever reason). */
  paused = false;
  gone = false;

  constructor(
    readonly conn: Pausable,
    readonly stats: PeerStats,
  ) {}
}

export class FairIntake {
  private flows: Flow[] = [];
  /** Downstream is full (or the agent is stopping): nobody is read. */
  private held = false;

  /** `limit`: bytes in flight per connection (0: no per-connection bound). */
  constructor(private readonly limit: number) {}

  add(conn: Pausable, stats: PeerStats): Flow {
    const f = new Flow(conn, stats);
    this.flows.push(f);
    this.apply(f);
    return f;
  }

  remove(f: Flow): void {
    const i = this.flows.indexOf(f);
    if (i >= 0) this.flows.splice(i, 1);
    if (f.paused) f.stats.paused(-1, Date.now());
    f.paused = false;
    f.gone = true;
  }

  /** Downstream is full: stop reading every connection. */
  hold(): void {
    this.held = true;
    for (const f of this.flows) this.apply(f);
  }

  /** Downstream has room: resume the least loaded connections first, ties in turn. */
  release(): void {
    this.held = false;
    const n = this.flows.length;
    if (n === 0) return;
    // Rotate so equally loaded connections take turns at going first.
    this.flows.push(this.flows.shift()!);
    const order = [...this.flows].sort((a, b) => a.inflight - b.inflight);
    for (const f of order) this.apply(f);
  }

  /** Records of `bytes` (memory cost) from this connection entered the pipeline. */
  charge(f: Flow, bytes: number): void {
    f.inflight += bytes;
    f.stats.inflightBytes += bytes;
    if (this.limit > 0 && !f.overLimit && f.inflight >= this.limit) {
      f.overLimit = true;
      f.stats.throttles++;
      this.apply(f);
    }
  }

  /** Those records settled (written, or dropped by an output). */
  settle(f: Flow, bytes: number): void {
    f.inflight -= bytes;
    f.stats.inflightBytes -= bytes;
    if (f.overLimit && f.inflight < this.limit) {
      f.overLimit = false;
      this.apply(f);
    }
  }

  private apply(f: Flow): void {
    if (f.gone) return;
    const pause = this.held || f.overLimit;
    if (pause === f.paused) return;
    f.paused = pause;
    f.stats.paused(pause ? 1 : -1, Date.now());
    if (pause) f.conn.pause();
    else f.conn.resume();
  }
}
