/**
 * Process tuning for a small idle footprint (docs/operations.md#memory): V8's compilers come back
 * on after startup, and memory the agent no longer uses is given back once it is idle or a
 * catch-up has settled.
 */
import { setFlagsFromString } from 'node:v8';
import { dropSpareBuffers } from './buffer-pool.js';
import { releaseValidators } from './config/validate.js';
import { loadAddon } from './native-addon.js';

/** How long without a record (or only a trickle) before an agent counts as idle (and gives back memory). */
const IDLE_MS = 8_000;
/**
 * Records/s that still count as idle: a resource input sampling every few seconds, a service
 * logging a line now and then. With "no record at all", a resource input at `interval: 5s` kept
 * the agent from ever being idle, so it never gave back what startup left (58.9 MiB instead of ~54).
 */
const TRICKLE_RATE = 10;
/** Records that make a busy period worth giving memory back after. */
const REDUCE_AFTER_RECORDS = 10_000;

/**
 * The CLI starts node with its compilers off (`--no-opt --no-sparkplug`, main.ts's shebang):
 * startup code runs once (module resolution, schema compilation, config parsing) and compiling
 * it only leaves compiler and code memory behind (~6 MiB of an idle agent's 57). Once the
 * pipeline runs, both are turned back on for the code that runs all the time (without Sparkplug,
 * the baseline compiler, the parent spent ~25% more CPU per million lines). What startup left
 * behind is given back once the agent is idle (giveBackMemory).
 * Exported for the test that checks that optimization does come back (test/core/startup-memory.test.ts).
 */
export function afterStartup(role: { receiver?: boolean } = {}): void {
  if (process.execArgv.includes('--no-opt')) setFlagsFromString('--opt');
  if (process.execArgv.includes('--no-sparkplug')) setFlagsFromString('--sparkplug');
  releaseValidators();
  if (role.receiver) leanReceiver();
}

/**
 * A receiving agent (the parent: vsock input) copies forwarded lines as bytes and allocates
 * little per line, so it needs no large young generation: startup left it at the CLI's maximum
 * (2 x 4 MiB, resident once the pipeline cycles through it) and ~10 MiB of startup garbage.
 * Both go now, before the first message (one full GC, ~30 ms), and the young generation stays
 * at its initial size from then on (--semi-space-growth-factor=1: V8 reads it when it would
 * grow). Measured on 1M forwarded lines: parent peak RSS 77-88 -> 73 MiB, CPU unchanged. For a
 * receiver without filters only (agent.ts): one that builds records for every line (filters;
 * also rotated-file's json or template format) spends ~8% more CPU with it, for ~5 MiB.
 */
function leanReceiver(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  reduceMemory();
}

/**
 * A full, compacting, memory-reducing GC now, then glibc's free heap back to the system
 * (native/memory.cc). False where the addon is not available.
 */
export function reduceMemory(): boolean {
  const l = loadAddon();
  if ('error' in l) return false;
  const b = l.binding as { reduceMemory?: () => void };
  if (typeof b.reduceMemory !== 'function') return false;
  b.reduceMemory();
  return true;
}

export type GiveBackReason = 'idle' | 'settled';

/** How often the intake is sampled. */
const TICK_MS = 1_000;
/** A catch-up has settled when the intake rate stayed at or below 1/SETTLE_FACTOR of its peak ... */
const SETTLE_FACTOR = 3;
/** ... for this long, with records still flowing. */
const SETTLE_MS = 5_000;
/** Least time between two give-backs while records flow (a load that keeps swinging 3x). */
const SETTLED_GAP_MS = 30_000;

/**
 * When to give memory back, from the count of records taken in (sampled every TICK_MS). Pure:
 * time and counts are passed in (tests drive it).
 * - idle: no record (or at most TRICKLE_RATE records/s) for IDLE_MS, once after startup and then
 *   after each busy period of REDUCE_AFTER_RECORDS records (not after every sample of a periodic input);
 * - settled: a catch-up ended while records keep flowing. After a stalled output, tail reads the
 *   backlog at many times the service's rate and that grows the heap, external Buffers and
 *   malloc's arenas; at a steady rate the agent is never idle, so without this it kept them (after
 *   a 15 s stall: 82-88 MiB instead of ~73). Settled = the rate stayed above 0 but at most
 *   1/SETTLE_FACTOR of its peak since the last give-back for SETTLE_MS, after REDUCE_AFTER_RECORDS
 *   records. A steady flow never is (its rate is its peak): a busy agent is left alone, and a
 *   catch-up costs one give-back (at most one per SETTLED_GAP_MS).
 */
export class GiveBackPolicy {
  private seen = 0;
  private lastAt: number;
  private quietSince: number;
  /** Records in at the last give-back (undefined: none since startup or a reload). */
  private atReduce: number | undefined;
  /** Highest rate (records/s) since the last give-back. */
  private peak = 0;
  /** Start of the current run of calm samples (rate in (0, peak / SETTLE_FACTOR]). */
  private calmSince: number | undefined;
  private settledAt = Number.NEGATIVE_INFINITY;

  constructor(now: number) {
    this.lastAt = now;
    this.quietSince = now;
  }

  /** Records taken in so far (`n`; it restarts from 0 on a reload) at `now` (ms): give back now? */
  sample(now: number, n: number): GiveBackReason | undefined {
    const prevAt = this.lastAt;
    const took = n - this.seen;
    this.lastAt = now;
    this.seen = n;
    if (took < 0) {
      // A reload: a new pipeline, its counters from 0.
      this.atReduce = undefined;
      this.restart(now);
      return undefined;
    }
    const since = n - (this.atReduce ?? 0);
    const rate = (took * 1000) / Math.max(1, now - prevAt);
    if (rate <= TRICKLE_RATE) {
      this.calmSince = undefined;
      if (now - this.quietSince >= IDLE_MS && (this.atReduce === undefined || since >= REDUCE_AFTER_RECORDS)) return this.gaveBack(now, 'idle');
      return undefined;
    }
    this.quietSince = now;
    if (rate * SETTLE_FACTOR > this.peak) {
      this.peak = Math.max(this.peak, rate);
      this.calmSince = undefined;
      return undefined;
    }
    this.calmSince ??= prevAt;
    if (now - this.calmSince >= SETTLE_MS && since >= REDUCE_AFTER_RECORDS && now - this.settledAt >= SETTLED_GAP_MS) {
      this.settledAt = now;
      return this.gaveBack(now, 'settled');
    }
    return undefined;
  }

  private gaveBack(now: number, reason: GiveBackReason): GiveBackReason {
    this.atReduce = this.seen;
    this.restart(now);
    return reason;
  }

  private restart(now: number): void {
    this.peak = 0;
    this.calmSince = undefined;
    this.quietSince = now;
  }
}

/**
 * Give back the memory the agent no longer uses when GiveBackPolicy says so: the pools' spare
 * Buffers (dropSpareBuffers), then reduceMemory. V8 would do it only when its memory reducer
 * happens to run, 8-24 s later or never on a quiet agent; glibc keeps freed pages. A busy agent
 * is left alone: the GC (~30 ms) would cost it CPU, and the heap it frees would be grown again at once.
 * `recordsIn` counts records taken in so far (it may restart from 0: a reload); `onReduced`
 * hears why and the RSS before and after. Returns the (unref'd) interval: clear it on stop.
 */
export function giveBackMemory(recordsIn: () => number, onReduced: (reason: GiveBackReason, rssBefore: number, rssAfter: number) => void): NodeJS.Timeout {
  const policy = new GiveBackPolicy(Date.now());
  const timer = setInterval(() => {
    const reason = policy.sample(Date.now(), recordsIn());
    if (!reason) return;
    try {
      const before = process.memoryUsage.rss();
      dropSpareBuffers();
      if (reduceMemory()) onReduced(reason, before, process.memoryUsage.rss());
    } catch {
      /* giving memory back is best effort */
    }
  }, TICK_MS);
  timer.unref();
  return timer;
}
