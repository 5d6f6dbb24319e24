/**
 * What rotation did, as one info line per period: each rotation, truncation, file opened or
 * closed is logged at debug (at 10 rotations/s one info line per event was ~60 lines/s), and
 * every SUMMARY_MS the counts since the last summary go to info — only when something happened.
 * The counters (rotations, truncations, ...) count the same events for metrics.
 */
import type { FollowerLog } from './tail-follower.js';

/** How often rotation activity is summed up at info. */
export const SUMMARY_MS = 60_000;

/** Counter name -> field of the summary line. */
const FIELDS: Readonly<Record<string, string>> = {
  rotations: 'rotated',
  deletions: 'deleted',
  truncations: 'truncated',
  copytruncate_recovered: 'fromCopy',
  copytruncate_unseen: 'unseenCopies',
  files_opened: 'opened',
  files_closed: 'closed',
};

export class RotationSummary {
  private counts: Record<string, number> = {};
  private any = false;
  private since = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: FollowerLog,
    private readonly everyMs = SUMMARY_MS,
  ) {}

  /** Start the period (what discovery found at start is not summed up: it was logged as it was). */
  start(): void {
    this.counts = {};
    this.any = false;
    this.since = Date.now();
    this.timer = setInterval(() => this.flush(), this.everyMs);
    this.timer.unref();
  }

  /** An event the counter `name` counts (names the summary does not know are ignored). */
  add(name: string, n = 1): void {
    const field = FIELDS[name];
    if (!field) return;
    this.counts[field] = (this.counts[field] ?? 0) + n;
    this.any = true;
  }

  /** Log what happened since the last summary, if anything. */
  flush(): void {
    const now = Date.now();
    if (this.any) {
      const c = this.counts;
      const n = (f: string) => c[f] ?? 0;
      this.log.info(
        { ...c, periodS: Math.round((now - this.since) / 1000) },
        `rotation summary: ${n('rotated')} rotated, ${n('deleted')} deleted, ${n('truncated')} truncated (${n('fromCopy')} finished from a copy), files opened ${n('opened')}, closed ${n('closed')}`,
      );
    }
    this.counts = {};
    this.any = false;
    this.since = now;
  }

  /** Stop the timer and log the rest. */
  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
