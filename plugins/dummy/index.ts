/** dummy: emits a configured record at a configured rate (as Fluent Bit's dummy input). For demos and tests. */
import { definePlugin, nowNs, VERSION_RANGE, type LogRecord } from '../../core/index.js';
import { schema } from './schema.js';

export default definePlugin({
  kind: 'input',
  name: 'dummy',
  description: 'Emits a configured record or line at a configured rate (demos, tests, load generation).',
  qlog: VERSION_RANGE,
  schema,
  setup(ctx) {
    const { dummy, rate, samples } = ctx.options;
    let parsed: Record<string, unknown> | undefined;
    try {
      // Detect JSON with ${seq} substituted, so an unquoted '{"n":${seq}}' counts as an object too.
      const v = JSON.parse(dummy.replaceAll('${seq}', '0')) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) parsed = v as Record<string, unknown>;
    } catch {
      /* not JSON: a plain line */
    }
    const text = parsed ? undefined : dummy;
    const hasSeq = dummy.includes('${seq}');
    // seq restarts at 1 each run, so the src names the run: a restart is a new stream, not a replay to dedupe.
    const src = `dummy:${ctx.id}:${Date.now().toString(36)}`;
    const tickMs = rate >= 100 ? 10 : Math.max(10, Math.min(1000, 1000 / rate));
    let seq = 0;
    let credit = 0;
    let last = 0;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;

    const make = (n: number): LogRecord => {
      const time = nowNs();
      const body =
        text !== undefined
          ? hasSeq
            ? text.replaceAll('${seq}', String(n))
            : text
          : hasSeq
            ? (JSON.parse(dummy.replaceAll('${seq}', String(n))) as Record<string, unknown>)
            : { ...parsed };
      return { time, tag: ctx.tag, body, meta: { src, seq: n } };
    };

    const tick = () => {
      timer = undefined;
      if (stopped) return;
      const now = performance.now();
      credit = Math.min(credit + ((now - last) * rate) / 1000, Math.max(1, rate));
      last = now;
      let n = Math.floor(credit);
      if (samples) n = Math.min(n, samples - seq);
      if (n > 0) {
        credit -= n;
        const records = new Array<LogRecord>(n);
        for (let i = 0; i < n; i++) records[i] = make(++seq);
        if (!ctx.emit(ctx.tag, records)) {
          // Downstream is full: wait (the `resume` hook), do not pile up credit meanwhile.
          void ctx.ready().then(() => {
            last = performance.now();
            credit = 0;
            schedule();
          });
          return;
        }
      }
      if (samples && seq >= samples) return;
      schedule();
    };
    const schedule = () => {
      if (!stopped && !timer) timer = setTimeout(tick, tickMs);
    };

    ctx.hooks.start.tap('dummy', () => {
      last = performance.now();
      credit = Math.min(1, rate);
      tick();
    });
    ctx.hooks.stop.tap('dummy', () => {
      stopped = true;
      clearTimeout(timer);
    });
  },
});
