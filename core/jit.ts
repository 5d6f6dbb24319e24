/**
 * When V8's optimizing compiler (TurboFan) comes back on: with the first burst of records, not
 * at startup (see afterStartup in core/memory.ts for why). Its own module, with nothing but
 * node:v8, because the engine calls it for every input chunk.
 */
import { setFlagsFromString } from 'node:v8';

/** Records within BURST_WINDOW_MS that make a burst. */
const BURST_RECORDS = 5_000;
const BURST_WINDOW_MS = 1_000;

/** TurboFan is off and waits for the first burst. */
let pending = false;
let windowStart = 0;
let inWindow = 0;

/** TurboFan is off (node ran with --no-opt): turn it on with the first burst (noteRecords). */
export function optimizeOnBurst(): void {
  pending = true;
  windowStart = 0;
  inWindow = 0;
}

/**
 * `n` records taken in by an input (core/engine/input.ts, per chunk). Once BURST_RECORDS come
 * within BURST_WINDOW_MS, and optimizeOnBurst() was called, V8's optimizing compiler is turned
 * on. True when it is on (or was never off).
 */
export function noteRecords(n: number): boolean {
  if (!pending) return true;
  const now = Date.now();
  if (now - windowStart > BURST_WINDOW_MS) {
    windowStart = now;
    inWindow = 0;
  }
  inWindow += n;
  if (inWindow < BURST_RECORDS) return false;
  pending = false;
  setFlagsFromString('--opt');
  return true;
}
