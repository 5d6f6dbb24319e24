/**
 * What GET /api/v1/health answers, as Fluent Bit's health check does: unhealthy when, within the
 * last `period`, more errors or more failed retries (chunks given up on) happened than allowed, and
 * also when an output holds records but has delivered nothing for `stallMs` (a peer that accepts
 * nothing never raises an error, yet the agent is not doing its job), and while an instance reports
 * a failing state: a gauge named `*_failing` above 0 (e.g. the vsock input's
 * unseal_senders_failing: senders none of whose sealed units its keys open).
 */
import type { InstanceMetrics } from './engine/engine.js';

export interface HealthOptions {
  /** More errors than this within the period: unhealthy. */
  errorsCount: number;
  /** More failed retries (chunks dropped after their last retry) than this within the period: unhealthy. */
  retryFailureCount: number;
  periodMs: number;
  /** An output with buffered records and no delivery for this long: unhealthy. 0: not checked. */
  stallMs: number;
}

/** A gauge with this suffix above 0: the instance says something keeps failing (its log says what). */
export const FAILING_SUFFIX = '_failing';

export interface HealthReport {
  healthy: boolean;
  reasons: string[];
}

interface Sample {
  t: number;
  errors: number;
  retryFailures: number;
}

function total(metrics: InstanceMetrics[], counter: string): number {
  let n = 0;
  for (const m of metrics) n += m.counters[counter] ?? 0;
  return n;
}

export class HealthCheck {
  private readonly samples: Sample[] = [];
  /** Per output: its records_out when it last made progress (or held nothing), and when. */
  private readonly progress = new Map<string, { out: number; t: number }>();
  /** The metrics of the last reading. */
  private latest: InstanceMetrics[] = [];

  constructor(
    /** Read at each use: a reload may change them without moving the endpoint. */
    private readonly options: () => HealthOptions,
    private readonly metrics: () => InstanceMetrics[],
    private readonly now: () => number = Date.now,
  ) {}

  /** Take a reading; call it regularly (the endpoint does every second) and before report(). */
  sample(): void {
    const t = this.now();
    const m = this.metrics();
    this.latest = m;
    this.samples.push({ t, errors: total(m, 'errors'), retryFailures: total(m, 'retries_failed') });
    // Keep one reading at or before the period's start, as the base the deltas are taken from.
    while (this.samples.length > 2 && this.samples[1]!.t <= t - this.options().periodMs) this.samples.shift();
    const seen = new Set<string>();
    for (const o of m) {
      if (o.kind !== 'output') continue;
      seen.add(o.id);
      const out = o.counters.records_out ?? 0;
      const p = this.progress.get(o.id);
      if (!p || out !== p.out || !o.counters.buffered_bytes) this.progress.set(o.id, { out, t });
    }
    // After a reload, outputs that are gone no longer count.
    for (const id of this.progress.keys()) if (!seen.has(id)) this.progress.delete(id);
  }

  report(): HealthReport {
    this.sample();
    const opts = this.options();
    const reasons: string[] = [];
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const secs = Math.round(opts.periodMs / 1000);
    const errors = last.errors - first.errors;
    if (errors > opts.errorsCount) reasons.push(`${errors} errors in the last ${secs} s (more than hc_errors_count ${opts.errorsCount})`);
    const failed = last.retryFailures - first.retryFailures;
    if (failed > opts.retryFailureCount)
      reasons.push(`${failed} chunks dropped after their last retry in the last ${secs} s (more than hc_retry_failure_count ${opts.retryFailureCount})`);
    if (opts.stallMs > 0) {
      for (const [id, p] of this.progress) {
        const idle = last.t - p.t;
        if (idle >= opts.stallMs)
          reasons.push(
            `output ${id} holds records and has delivered nothing for ${Math.round(idle / 1000)} s (hc_stall_timeout ${Math.round(opts.stallMs / 1000)} s)`,
          );
      }
    }
    for (const m of this.latest) {
      for (const g of m.gauges) {
        const n = m.counters[g] ?? 0;
        if (g.endsWith(FAILING_SUFFIX) && n > 0) reasons.push(`${m.kind} ${m.id} reports ${g} ${n} (its log says why)`);
      }
    }
    return { healthy: reasons.length === 0, reasons };
  }
}
