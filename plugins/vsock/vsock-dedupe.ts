/**
 * Chunk ids recently seen, per sender: a chunk resent after a lost ack is acked again without
 * being delivered twice; a chunk that is still in the pipeline is acked when it settles.
 */

export type Acker = () => void;

interface Entry {
  settled: boolean;
  /** Acks owed when the chunk settles (the first delivery and any resends meanwhile). */
  ackers: Acker[];
}

export class ChunkDedupe {
  private readonly seen = new Map<string, Entry>();

  constructor(private readonly window: number) {}

  get size(): number {
    return this.seen.size;
  }

  /**
   * A chunk arrived. Returns true when it is new (deliver it, then call settle()); false when
   * it is a duplicate: `ack` is called now (already settled) or when the first copy settles.
   */
  arrive(key: string, ack: Acker): boolean {
    if (this.window === 0) return true;
    const e = this.seen.get(key);
    if (!e) {
      this.seen.set(key, { settled: false, ackers: [ack] });
      this.evict();
      return true;
    }
    if (e.settled) ack();
    else e.ackers.push(ack);
    return false;
  }

  /** The chunk left the pipeline: ack every connection that sent it. */
  settle(key: string, ack?: Acker): void {
    const e = this.seen.get(key);
    if (!e) {
      ack?.();
      return;
    }
    e.settled = true;
    const a = e.ackers;
    e.ackers = [];
    for (const f of a) f();
  }

  /**
   * The chunk was not taken (unseal holds it back): forget it, so that a resend is taken afresh;
   * resends that arrived meanwhile are not acked either.
   */
  forget(key: string): void {
    this.seen.delete(key);
  }

  private evict(): void {
    if (this.seen.size <= this.window) return;
    for (const [k, e] of this.seen) {
      if (this.seen.size <= this.window) break;
      // Chunks still in the pipeline are kept: their ackers are needed (bounded by the buffers).
      if (e.settled) this.seen.delete(k);
    }
  }
}
