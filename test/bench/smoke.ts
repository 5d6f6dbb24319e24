/**
 * Smoke mode for the benchmarks: with QLOG_BENCH_SMOKE=1 every bench runs once on a tiny input,
 * keeps its correctness checks (and exits non-zero when one fails) and writes nothing to docs/.
 * test/bench/smoke.test.ts runs each bench this way, so a bench that no longer works fails `npm test`.
 *
 *   const LINES = Number(process.env.LINES ?? size(1_000_000, 2_000));
 */
export const SMOKE = process.env.QLOG_BENCH_SMOKE === '1';

/** `full` for a real run, `smoke` in smoke mode. */
export function size(full: number, smoke: number): number {
  return SMOKE ? smoke : full;
}

/** Fail the bench (exit code 1) with a message: a bench whose output is wrong measured nothing. */
export function check(ok: boolean, what: string): void {
  if (ok) return;
  console.error(`bench check failed: ${what}`);
  process.exitCode = 1;
}
