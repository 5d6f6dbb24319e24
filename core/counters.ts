import type { Counters, LabeledSample } from './plugin/define.js';

/** Standard per-instance counters (Vector style: received/sent records and bytes, errors, retries, drops). */
export const STANDARD_COUNTERS = [
  'records_in',
  'bytes_in',
  'records_out',
  'bytes_out',
  'dropped_records',
  'errors',
  'retries',
  'retried_records',
  'retries_failed',
] as const;

export class InstanceCounters implements Counters {
  private readonly values = new Map<string, number>();
  /** Names written with set(): levels that go up and down (Prometheus gauges), not totals. */
  private readonly levels = new Set<string>();
  private readonly sources: (() => Iterable<LabeledSample>)[] = [];
  constructor() {
    for (const k of STANDARD_COUNTERS) this.values.set(k, 0);
  }
  add(name: string, n = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + n);
  }
  set(name: string, value: number): void {
    this.values.set(name, value);
    this.levels.add(name);
  }
  get(name: string): number {
    return this.values.get(name) ?? 0;
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }
  addSeries(source: () => Iterable<LabeledSample>): void {
    this.sources.push(source);
  }
  /** Every labeled value the sources give now. */
  series(): LabeledSample[] {
    const out: LabeledSample[] = [];
    for (const s of this.sources) for (const x of s()) out.push(x);
    return out;
  }
  /** The names that are gauges (set, never added to). */
  gauges(): string[] {
    return [...this.levels];
  }
}
