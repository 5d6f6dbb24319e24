/** The record a rate filter sends when it dropped records: readable line + structured fields. */
import { nowNs, type LogRecord, type RecordMeta } from '../../core/index.js';

/** 250 -> "250ms", 1500 -> "1.5s", 90000 -> "90s", 120000 -> "2m", 7200000 -> "2h". */
export function formatInterval(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 10) / 100}s`;
}

/** Position/identity metadata describes the dropped lines, not the summary: leave it out. */
const NOT_COPIED = new Set(['src', 'seq', 'truncated', 'invalid_utf8']);

export function summaryRecord(
  tag: string,
  what: string,
  dropped: number,
  intervalMs: number,
  from: RecordMeta | undefined,
  extra: Record<string, unknown> = {},
): LogRecord {
  const meta: RecordMeta = {};
  if (from) for (const k in from) if (!NOT_COPIED.has(k)) meta[k] = from[k];
  meta.rate_summary = true;
  return {
    time: nowNs(),
    tag,
    body: {
      log: `rate: dropped ${dropped} records for ${what} in the last ${formatInterval(intervalMs)}`,
      rate_dropped: dropped,
      interval_ms: intervalMs,
      ...extra,
    },
    meta,
  };
}
