/**
 * Fluent Bit throttle semantics, per key: time is cut into intervals; each key counts the records
 * it let through in each of the last `window` intervals; a record passes while the average over
 * the window is below `rate` (total < rate × window). So a quiet key may burst up to
 * rate × window records at once, and a key that keeps sending gets `rate` per interval on average.
 *
 * Slots are advanced lazily from a monotonic clock when a key is touched (no timer per key).
 * Per-key state is bounded: past `maxKeys` the least recently used key is evicted (its window is
 * forgotten; drops it had not yet reported are folded into an aggregate so the count stays exact).
 */

export interface RateWindowOptions {
  /** Records per interval, averaged over the window (> 0, may be fractional). */
  rate: number;
  /** Number of intervals averaged (>= 1). */
  window: number;
  intervalMs: number;
  maxKeys: number;
  /** Monotonic clock in ms (tests inject one). */
  now?: () => number;
}

/** Drops not yet reported for one key, with what the summary record needs. */
export interface PendingDrops<M = unknown> {
  key: string;
  dropped: number;
  /** Tag and metadata of the last dropped record (the summary is sent under that tag). */
  tag: string;
  meta: M;
}

interface KeyState<M> {
  /** Records let through per slot; slot s lives at index s % window. */
  counts: Float64Array;
  /** Newest slot number this state has advanced to. */
  slot: number;
  total: number;
  dropped: number;
  tag: string;
  meta: M | undefined;
}

export class RateWindow<M = unknown> {
  readonly #limit: number;
  readonly #window: number;
  readonly #interval: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** Insertion order = recency order (a touched key is re-inserted at the end). */
  readonly #keys = new Map<string, KeyState<M>>();
  readonly #pending = new Set<string>();
  #evictedDrops = 0;
  #evictedKeys = 0;
  #evictedTag = '';
  #evictedMeta: M | undefined;
  /** Keys evicted so far (a counter for metrics). */
  evictions = 0;

  constructor(o: RateWindowOptions) {
    this.#window = Math.max(1, Math.floor(o.window));
    this.#limit = o.rate * this.#window;
    this.#interval = o.intervalMs;
    this.#maxKeys = Math.max(1, Math.floor(o.maxKeys));
    this.#now = o.now ?? (() => performance.now());
  }

  get size(): number {
    return this.#keys.size;
  }

  #slotNow(): number {
    return Math.floor(this.#now() / this.#interval);
  }

  #state(key: string): KeyState<M> {
    let st = this.#keys.get(key);
    if (st) {
      this.#keys.delete(key);
    } else {
      if (this.#keys.size >= this.#maxKeys) this.#evictOldest();
      st = { counts: new Float64Array(this.#window), slot: this.#slotNow(), total: 0, dropped: 0, tag: '', meta: undefined };
    }
    this.#keys.set(key, st);
    return st;
  }

  #evictOldest(): void {
    const [key, st] = this.#keys.entries().next().value as [string, KeyState<M>];
    this.#keys.delete(key);
    this.evictions++;
    if (st.dropped > 0) {
      this.#pending.delete(key);
      this.#evictedDrops += st.dropped;
      this.#evictedKeys++;
      this.#evictedTag = st.tag;
      this.#evictedMeta = st.meta;
    }
  }

  #advance(st: KeyState<M>, now: number): void {
    const gap = now - st.slot;
    if (gap <= 0) return;
    if (gap >= this.#window) {
      st.counts.fill(0);
      st.total = 0;
    } else {
      for (let s = st.slot + 1; s <= now; s++) {
        const i = s % this.#window;
        st.total -= st.counts[i]!;
        st.counts[i] = 0;
      }
    }
    st.slot = now;
  }

  /**
   * Let up to n records of `key` through now; returns how many passed (the first ones). The rest
   * are over the limit: the caller drops them (and reports them with `dropped`) or waits.
   */
  take(key: string, n: number): number {
    const st = this.#state(key);
    const now = this.#slotNow();
    this.#advance(st, now);
    const room = this.#limit - st.total;
    if (room <= 0 || n <= 0) return 0;
    const ok = Math.min(n, Math.ceil(room));
    st.counts[now % this.#window]! += ok;
    st.total += ok;
    return ok;
  }

  /** Record n dropped records of `key` (tag/meta of the last one are kept for the summary). */
  dropped(key: string, n: number, tag: string, meta: M): void {
    const st = this.#keys.get(key) ?? this.#state(key);
    st.dropped += n;
    st.tag = tag;
    st.meta = meta;
    this.#pending.add(key);
  }

  /** Milliseconds until `key` gets room again (0 if it has room now). */
  waitMs(key: string): number {
    const st = this.#keys.get(key);
    if (!st) return 0;
    const nowMs = this.#now();
    const now = Math.floor(nowMs / this.#interval);
    this.#advance(st, now);
    if (st.total < this.#limit) return 0;
    // The oldest slot still holding records frees its count when it leaves the window.
    for (let age = this.#window - 1; age >= 0; age--) {
      const s = now - age;
      if (s >= 0 && st.counts[s % this.#window]! > 0) return Math.max(1, Math.ceil((s + this.#window) * this.#interval - nowMs));
    }
    return Math.max(1, Math.ceil((now + 1) * this.#interval - nowMs));
  }

  /**
   * Drops since the last call, per key, then reset. `evicted` sums the drops of keys evicted
   * meanwhile (with the tag/meta of the last of them).
   */
  takePending(): { keys: PendingDrops<M | undefined>[]; evicted: PendingDrops<M | undefined> & { keys: number } } {
    const keys: PendingDrops<M | undefined>[] = [];
    for (const key of this.#pending) {
      const st = this.#keys.get(key);
      if (!st || st.dropped === 0) continue;
      keys.push({ key, dropped: st.dropped, tag: st.tag, meta: st.meta });
      st.dropped = 0;
      st.meta = undefined;
    }
    this.#pending.clear();
    const evicted = { key: '', dropped: this.#evictedDrops, keys: this.#evictedKeys, tag: this.#evictedTag, meta: this.#evictedMeta };
    this.#evictedDrops = 0;
    this.#evictedKeys = 0;
    this.#evictedTag = '';
    this.#evictedMeta = undefined;
    return { keys, evicted };
  }
}
