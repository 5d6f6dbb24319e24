/**
 * Process tuning for a small idle footprint (docs/operations.md#memory): V8's compilers come back
 * on after startup, and memory the agent no longer uses is given back once it is idle.
 */
import { setFlagsFromString } from 'node:v8';
import { loadAddon } from './native-addon.js';

/** How long without a record before an agent counts as idle (and gives back memory). */
const IDLE_MS = 8_000;
/** Records that make a busy period worth giving memory back after. */
const REDUCE_AFTER_RECORDS = 10_000;

/**
 * The CLI starts node with its compilers off (`--no-opt --no-sparkplug`, main.ts's shebang):
 * startup code runs once (module resolution, schema compilation, config parsing) and compiling
 * it only leaves compiler and code memory behind (~6 MiB of an idle agent's 57). Once the
 * pipeline runs, both are turned back on for the code that runs all the time (without Sparkplug,
 * the baseline compiler, the parent spent ~25% more CPU per million lines). What startup left
 * behind is given back once the agent is idle (giveBackWhenIdle).
 * Exported for the test that checks that optimization does come back (test/core/startup-memory.test.ts).
 */
export function afterStartup(): void {
  if (process.execArgv.includes('--no-opt')) setFlagsFromString('--opt');
  if (process.execArgv.includes('--no-sparkplug')) setFlagsFromString('--sparkplug');
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

/**
 * Once no record has come in for IDLE_MS (after startup, or after a period of activity), give
 * back the memory the agent no longer uses (reduceMemory). V8 would do it only when its memory
 * reducer happens to run, 8-24 s later or never on a quiet agent. A busy agent is left alone: the
 * GC would cost it CPU, and the heap it frees would be grown again at once.
 * `recordsIn` counts records taken in so far (it may restart from 0: a reload); `onReduced`
 * hears the RSS before and after. Returns the (unref'd) interval: clear it on stop.
 */
export function giveBackWhenIdle(recordsIn: () => number, onReduced: (rssBefore: number, rssAfter: number) => void): NodeJS.Timeout {
  let seen = 0;
  let quietSince = Date.now();
  let atReduce: number | undefined; // records in when memory was last given back
  const timer = setInterval(() => {
    const n = recordsIn();
    if (n !== seen) {
      if (n < seen) atReduce = undefined; // a reload: a new pipeline, its counters from 0
      seen = n;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= IDLE_MS && (atReduce === undefined || n - atReduce >= REDUCE_AFTER_RECORDS)) {
      // Once after startup, then after each busy period (not after every sample of a
      // periodic input).
      atReduce = n;
      try {
        const before = process.memoryUsage.rss();
        if (reduceMemory()) onReduced(before, process.memoryUsage.rss());
      } catch {
        /* giving memory back is best effort */
      }
    }
  }, IDLE_MS / 4);
  timer.unref();
  return timer;
}
