/** What the link benchmarks send: service-like log records, and counters nobody reads. */
import type { Counters } from '../../core/index.js';
import type { LogRecord } from '../../core/record.js';

/**
 * `n` records numbered from `from`, each body `lineBytes` long, with tail-like meta. Senders into
 * one parent need their own `src`: rotated-file drops what is below a source's high-water mark.
 */
export function benchRecords(from: number, n: number, lineBytes: number, src = '65024:2162803:9f32d36a40ea:0'): LogRecord[] {
  const pad = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(lineBytes / 36));
  const t = BigInt(Date.now()) * 1_000_000n;
  const out: LogRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const seq = from + i;
    const head = `2026-11-23T12:00:00.000Z INFO service[42]: request ${seq} `;
    out[i] = {
      time: t + BigInt(i),
      tag: 'service',
      body: head + pad.slice(0, Math.max(0, lineBytes - head.length)),
      meta: { src, seq: seq * lineBytes, path: '/var/log/service.log' },
    };
  }
  return out;
}

export function benchCounters(): Counters {
  const m = new Map<string, number>();
  return {
    add: (k, n = 1) => void m.set(k, (m.get(k) ?? 0) + n),
    set: (k, v) => void m.set(k, v),
    get: (k) => m.get(k) ?? 0,
    snapshot: () => Object.fromEntries(m),
    addSeries: () => undefined,
  };
}
