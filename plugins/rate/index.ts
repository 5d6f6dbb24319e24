/**
 * rate: limits records per interval over a sliding window of intervals, per key (Fluent Bit
 * throttle semantics, see rate-window.ts). `drop` discards what is over the limit and reports it
 * in summary records; `pause` holds the chunk until there is room, which backs up into the input
 * (the core runs an input's chunks one at a time), so the source slows down and nothing is lost.
 */
import { compileTemplate, TemplateError } from '../../core/template.js';
import { definePlugin, VERSION_RANGE, type Chunk, type LogRecord, type RecordMeta } from '../../core/index.js';
import { RateWindow } from './rate-window.js';
import { summaryRecord } from './rate-summary.js';
import { schema } from './schema.js';

/** `tag`, `meta.path`, `path` ... are shorthands for the template `${tag}`, `${meta.path}`, `${path}`. */
function keyTemplate(key: string): string {
  return key.includes('${') ? key : `\${${key.trim()}}`;
}

export default definePlugin({
  kind: 'filter',
  name: 'rate',
  description: 'Limits records per interval over a sliding window, per tag or per field (Fluent Bit throttle); drops with a summary, or pauses the source.',
  qlog: VERSION_RANGE,
  schema,
  check(o) {
    if (o.interval < 10) return { key: 'interval', message: `expected an interval of at least 10ms, found ${o.interval}ms` };
    try {
      compileTemplate(keyTemplate(o.key));
    } catch (e) {
      if (e instanceof TemplateError) return { key: 'key', message: `${e.message}; expected tag, a field such as meta.path or body.level, or a template` };
      throw e;
    }
    return undefined;
  },
  setup(ctx) {
    const { rate, window, interval, key, max_keys, action, summary } = ctx.options;
    const keyOf = compileTemplate(keyTemplate(key), { hostname: ctx.service.hostname });
    const byTag = keyOf.source === '${tag}';
    const limiter = new RateWindow<RecordMeta>({ rate, window, intervalMs: interval, maxKeys: max_keys });
    const c = ctx.counters;

    /** Runs of consecutive records with the same key, as [key, start, end). */
    const runsOf = (chunk: Chunk): [string, number, number][] => {
      const recs = chunk.records;
      if (byTag) return [[chunk.tag, 0, recs.length]];
      if (keyOf.constant) return [[keyOf(recs[0]!), 0, recs.length]];
      const runs: [string, number, number][] = [];
      let k = keyOf(recs[0]!);
      let start = 0;
      for (let i = 1; i < recs.length; i++) {
        const next = keyOf(recs[i]!);
        if (next === k) continue;
        runs.push([k, start, i]);
        k = next;
        start = i;
      }
      runs.push([k, start, recs.length]);
      return runs;
    };

    if (action === 'drop') {
      ctx.hooks.chunk.tap('rate', (chunk: Chunk) => {
        const recs = chunk.records;
        if (recs.length === 0) return chunk;
        let out: LogRecord[] | undefined; // allocated at the first drop
        for (const [k, start, end] of runsOf(chunk)) {
          const ok = limiter.take(k, end - start);
          if (ok === end - start) {
            if (out) for (let i = start; i < end; i++) out.push(recs[i]!);
            continue;
          }
          out ??= recs.slice(0, start);
          for (let i = start; i < start + ok; i++) out.push(recs[i]!);
          limiter.dropped(k, end - start - ok, chunk.tag, recs[end - 1]!.meta);
          c.add('rate_dropped', end - start - ok);
        }
        if (out) chunk.records = out;
        return chunk;
      });
    } else {
      const sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
      let stopping = false;
      const sleep = (ms: number) =>
        new Promise<void>((wake) => {
          const s = {
            timer: setTimeout(() => {
              sleeping.delete(s);
              wake();
            }, ms),
            wake,
          };
          sleeping.add(s);
        });
      ctx.hooks.chunk.tapPromise('rate', async (chunk: Chunk) => {
        if (chunk.records.length === 0) return chunk;
        const began = performance.now();
        let waited = false;
        for (const [k, start, end] of runsOf(chunk)) {
          let left = end - start;
          while ((left -= limiter.take(k, left)) > 0 && !stopping) {
            waited = true;
            await sleep(limiter.waitMs(k));
          }
        }
        if (waited) {
          c.add('rate_paused_ms', Math.round(performance.now() - began));
          c.add('rate_paused_chunks');
        }
        return chunk;
      });
      // Held chunks are let through at stop (the agent is draining; holding them would only delay it).
      ctx.hooks.stop.tap('rate', () => {
        stopping = true;
        for (const s of sleeping) {
          clearTimeout(s.timer);
          s.wake();
        }
        sleeping.clear();
      });
    }

    let timer: NodeJS.Timeout | undefined;
    const report = (send: boolean): void => {
      c.set('rate_keys', limiter.size);
      c.set('rate_evicted_keys', limiter.evictions);
      const { keys, evicted } = limiter.takePending();
      const records = new Map<string, LogRecord[]>();
      const add = (r: LogRecord) => {
        const list = records.get(r.tag);
        if (list) list.push(r);
        else records.set(r.tag, [r]);
      };
      for (const p of keys) add(summaryRecord(p.tag, p.key === '' ? '(no key)' : p.key, p.dropped, interval, p.meta, { rate_key: p.key }));
      if (evicted.dropped > 0) {
        add(
          summaryRecord(
            evicted.tag,
            `${evicted.keys} keys no longer tracked (more than max_keys=${max_keys} keys were active)`,
            evicted.dropped,
            interval,
            evicted.meta,
            { rate_evicted_keys: evicted.keys },
          ),
        );
      }
      for (const [tag, recs] of records) {
        if (send) {
          c.add('rate_summaries', recs.length);
          ctx.emit(tag, recs);
        } else {
          for (const r of recs) ctx.log.warn({ tag }, `${(r.body as { log: string }).log} (not sent: the agent is stopping)`);
        }
      }
    };
    if (action === 'drop' && summary) {
      ctx.hooks.start.tap('rate', () => {
        timer = setInterval(() => report(true), interval);
        timer.unref();
      });
      ctx.hooks.stop.tap('rate', () => {
        clearInterval(timer);
        report(false);
      });
    }
  },
});
