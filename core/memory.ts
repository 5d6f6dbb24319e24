/**
 * Process tuning for a small idle footprint (docs/operations.md#memory): V8's compilers come back
 * on after startup, and memory the agent no longer uses is given back once it is idle or a
 * catch-up has settled.
 */
import { setFlagsFromString } from 'node:v8';
import { dropSpareBuffers } from './buffer-pool.js';
import { releaseValidators } from './config/validate.js';
import { optimizeOnBurst } from './jit.js';
import { addonFunction } from './native-addon.js';

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
 * pipeline runs, Sparkplug (the baseline compiler) comes back on at once: without it the parent
 * spent ~25% more CPU per million lines. TurboFan (the optimizing compiler) comes back with the
 * first burst of records (noteRecords): an agent that only ever sees a trickle never needs it, and
 * turned on for every agent it optimized the idle timers' code about a minute after the start,
 * which paged ~3.3 MiB of the compiler's own machine code into the RSS (an idle agent went from
 * ~50 to ~54 MiB, for good). Forwarding 1M lines without TurboFan took ~20% longer.
 * What startup left behind is given back once the agent is idle (giveBackMemory).
 * Exported for the test that checks that optimization does come back (test/core/startup-memory.test.ts).
 */
export function afterStartup(role: { receiver?: boolean } = {}): void {
  if (process.execArgv.includes('--no-opt')) optimizeOnBurst();
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
  const reduce = addonFunction<() => void>('reduceMemory');
  if (reduce === undefined) return false;
  reduce();
  return true;
}

export type GiveBackReason = 'idle' | 'settled' | 'regrown';

/** How often the intake is sampled. */
const TICK_MS = 1_000;
/** A catch-up has settled when the intake rate stayed at or below 1/SETTLE_FACTOR of its peak ... */
const SETTLE_FACTOR = 3;
/** ... for this long, with records still flowing. */
const SETTLE_MS = 5_000;
/** Least time between two give-backs while records flow (a load that keeps swinging 3x). */
const SETTLED_GAP_MS = 30_000;
/** Still idle, and RSS this far above what the last give-back left: give back again ... */
const REGROWN_BYTES = 768 * 1024;
/** ... at most this often. */
const REGROWN_GAP_MS = 30_000;

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
 *   catch-up costs one give-back (at most one per SETTLED_GAP_MS);
 * - regrown: still idle since the last give-back, and the RSS grew REGROWN_BYTES past what it left
 *   (at most once per REGROWN_GAP_MS). An idle agent's timers (tail's checks, a resource input's
 *   samples) allocate ~25 KiB/s, and V8's young generation cycles through pages that the give-back
 *   had returned: without this, an idle agent at 49 MiB 20 s after start was at 50-52 MiB a minute
 *   later. What a give-back cannot take back (more files followed) raises the floor: it is not
 *   tried again until the RSS grows another REGROWN_BYTES.
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
  /** RSS right after the last give-back (undefined: not known, or records came in since). */
  private floor: number | undefined;
  private reducedAt = Number.NEGATIVE_INFINITY;

  constructor(now: number) {
    this.lastAt = now;
    this.quietSince = now;
  }

  /**
   * Records taken in so far (`n`; it restarts from 0 on a reload) and the RSS (`rss`, bytes;
   * optional) at `now` (ms): give back now?
   */
  sample(now: number, n: number, rss?: number): GiveBackReason | undefined {
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
      if (this.floor !== undefined && rss !== undefined && rss - this.floor >= REGROWN_BYTES && now - this.reducedAt >= REGROWN_GAP_MS) {
        this.reducedAt = now;
        return 'regrown';
      }
      return undefined;
    }
    this.quietSince = now;
    this.floor = undefined;
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

  /**
   * The RSS a give-back left (after sample() said why). After an idle one, it is the floor that
   * 'regrown' measures from while the agent stays idle; it only rises (what could not be given
   * back is not tried again at once). Records coming in forget it.
   */
  reduced(reason: GiveBackReason, rss: number): void {
    if (reason !== 'settled') this.floor = Math.max(this.floor ?? 0, rss);
  }

  private gaveBack(now: number, reason: GiveBackReason): GiveBackReason {
    this.atReduce = this.seen;
    this.restart(now);
    this.reducedAt = now;
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
    const before = process.memoryUsage.rss();
    const reason = policy.sample(Date.now(), recordsIn(), before);
    if (!reason) return;
    try {
      dropSpareBuffers();
      if (!reduceMemory()) return;
      const after = process.memoryUsage.rss();
      policy.reduced(reason, after);
      onReduced(reason, before, after);
    } catch {
      /* giving memory back is best effort */
    }
  }, TICK_MS);
  timer.unref();
  return timer;
}
