/**
 * Exponential backoff with equal jitter, shared by output flush retries (retry_base / retry_max)
 * and endpoint reconnects (reconnect_base / reconnect_max).
 */

/**
 * Delay before retry `attempt` (0-based): a ceiling that doubles from `baseMs` up to `maxMs`,
 * then a random delay in its upper half (equal jitter: never 0, never in lockstep with peers).
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
