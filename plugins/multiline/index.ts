/**
 * multiline: joins records that belong together (a stack trace whose lines arrived as records
 * over the link, CRI or Docker pieces of one line) per tag and source, as Fluent Bit's multiline
 * filter. Records it holds keep the chunks they came in from being acknowledged to their input
 * (ctx.hold) until the joined record was delivered, so an input with end-to-end acks (tail, the
 * vsock link) never commits a record the filter still holds.
 */
import { definePlugin, VERSION_RANGE, type Chunk, type LogRecord } from '../../core/index.js';
import { MultilineSet } from '../../core/multiline/ml-registry.js';
import { type Group, MultilineStream, newCounts } from '../../core/multiline/ml-stream.js';
import { schema } from './schema.js';

/** Records of one tag and one source are assembled together. */
function sourceOf(r: LogRecord): string {
  const m = r.meta;
  return String(m.src ?? m.peer ?? m.cid ?? '');
}

export default definePlugin({
  kind: 'filter',
  name: 'multiline',
  description:
    'Joins records that belong together (stack traces, CRI/Docker pieces of one line) per tag and source, with java, python, go, docker, cri or user rules.',
  qlog: VERSION_RANGE,
  schema,
  setup(ctx) {
    const o = ctx.options;
    const machine = (ctx.service.multiline ?? new MultilineSet()).machine(o.multiline_parser, ctx.service.parsers, {
      key: o.key_content || undefined,
      flushMs: o.flush_timeout || undefined,
    });
    const limits = { maxLines: o.max_lines, maxBytes: o.max_bytes, budgetMs: o.time_budget };
    const counts = newCounts();
    /** Sources holding records (a source leaves once it holds none: the map stays bounded). */
    const streams = new Map<string, { tag: string; s: MultilineStream }>();
    let timer: NodeJS.Timeout | undefined;

    const report = () => {
      const c = ctx.counters;
      if (counts.joined) c.add('multiline_records', counts.joined);
      if (counts.truncated) c.add('multiline_truncated', counts.truncated);
      if (counts.overBudget) c.add('multiline_over_budget', counts.overBudget);
      if (counts.bypassed) c.add('multiline_bypassed', counts.bypassed);
      counts.joined = counts.truncated = counts.overBudget = counts.bypassed = 0;
    };
    /** A record built on records of earlier chunks: its own chunk, releasing them once it settled. */
    const inject = (tag: string, r: LogRecord, g: Group) => {
      const holds = g.holds.splice(0);
      ctx.emit(tag, [r], {
        onSettled: (st) => {
          for (const h of holds) h(st.delivered);
        },
      });
    };

    ctx.hooks.chunk.tap('multiline', (chunk: Chunk) => {
      /** Every record leaving, in the order they completed. */
      const out: LogRecord[] = [];
      /** Releases of earlier chunks whose records are in `out`. */
      const earlier: ((delivered: boolean) => void)[] = [];
      /** Groups holding records of this chunk, and those that left (the others are still open). */
      const mine = new Set<Group>();
      const left = new Set<Group>();
      for (const r of chunk.records) {
        const key = `${chunk.tag}\u0000${sourceOf(r)}`;
        let e = streams.get(key);
        if (!e) streams.set(key, (e = { tag: chunk.tag, s: new MultilineStream(machine, limits, counts) }));
        const g = e.s.push(r, Number.NaN, (rec, grp) => {
          out.push(rec);
          if (grp) left.add(grp);
          if (grp?.holds.length) earlier.push(...grp.holds.splice(0));
        });
        if (g) mine.add(g);
        if (!e.s.holding) streams.delete(key);
      }
      // This chunk is acknowledged once every record of it that is still held was delivered, and
      // (when records of earlier chunks leave with them) once the records leaving now were.
      const pending = [...mine].filter((g) => !left.has(g));
      const late = earlier.length > 0;
      if (pending.length || late) {
        const release = ctx.hold(chunk);
        let refs = pending.length + (late ? 1 : 0);
        let ok = true;
        const one = (delivered: boolean) => {
          ok &&= delivered;
          if (--refs === 0) release(ok);
        };
        for (const g of pending) g.holds.push(one);
        if (late) earlier.push(one);
      }
      report();
      if (!late) {
        chunk.records = out;
        return chunk;
      }
      // Records built on records of earlier chunks settle those chunks: everything leaving now
      // goes as one chunk of its own (in order: a source's records must not be reordered, an
      // output such as file skips a record whose seq is below one it already wrote).
      ctx.emit(chunk.tag, out, {
        onSettled: (st) => {
          for (const h of earlier) h(st.delivered);
        },
      });
      chunk.records = [];
      return chunk;
    });

    ctx.hooks.start.tap('multiline', () => {
      timer = setInterval(
        () => {
          const before = performance.now() - machine.flushMs;
          for (const [key, e] of streams) {
            const t = e.s.oldest();
            if (t === undefined || t > before) continue;
            e.s.flush((r, g) => (g?.holds.length ? inject(e.tag, r, g) : ctx.emit(e.tag, [r])), before + 0.001);
            if (!e.s.holding) streams.delete(key);
          }
          report();
        },
        Math.min(1000, Math.max(25, machine.flushMs / 4)),
      );
      timer.unref();
    });
    // Records still held at a stop are not emitted: their chunks were never acknowledged, so an
    // input with end-to-end acks delivers them again after the restart.
    ctx.hooks.stop.tap('multiline', () => clearInterval(timer));
  },
});
