/**
 * Joins the records of concurrent flushes into one request (batching by time: `batch_wait`;
 * by size: `batch_size` sends at once) and hands each flush the verdicts of its own records.
 * With batch_wait 0 each flush is its own request (queued chunks were already merged by the core).
 */
import type { LogRecord } from '../../core/index.js';
import type { ItemVerdict } from './http-format.js';

/** One verdict for every record of a request, or one per record. */
export type Verdicts = ItemVerdict | ItemVerdict[];

export function verdictAt(v: Verdicts, i: number): ItemVerdict {
  return Array.isArray(v) ? v[i]! : v;
}

interface Waiter {
  from: number;
  to: number;
  resolve: (v: Verdicts) => void;
}

interface Open {
  records: LogRecord[];
  bytes: number;
  waiters: Waiter[];
  timer: NodeJS.Timeout | undefined;
}

export class RequestBatcher {
  private open: Open | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly waitMs: number,
    /** Sends one request; never rejects (failures are verdicts). */
    private readonly request: (records: LogRecord[]) => Promise<Verdicts>,
  ) {}

  /** Sends `records` (about `bytes` big), alone or with others', and resolves with their verdicts. */
  submit(records: LogRecord[], bytes: number): Promise<Verdicts> {
    if (this.waitMs <= 0) return this.request(records);
    if (this.open && this.open.bytes + bytes > this.maxBytes) this.sendOpen();
    const o = (this.open ??= { records: [], bytes: 0, waiters: [], timer: undefined });
    const from = o.records.length;
    for (const r of records) o.records.push(r);
    o.bytes += bytes;
    const p = new Promise<Verdicts>((resolve) => o.waiters.push({ from, to: o.records.length, resolve }));
    if (o.bytes >= this.maxBytes) this.sendOpen();
    else o.timer ??= setTimeout(() => this.sendOpen(), this.waitMs);
    return p;
  }

  private sendOpen(): void {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    if (o.timer) clearTimeout(o.timer);
    void this.request(o.records).then((v) => {
      for (const w of o.waiters) w.resolve(Array.isArray(v) ? v.slice(w.from, w.to) : v);
    });
  }

  /** Sends what waits now (at stop). */
  flushNow(): void {
    this.sendOpen();
  }
}
