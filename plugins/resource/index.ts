/**
 * resource: samples system CPU, memory, load, the agent's cgroup and chosen processes every
 * `interval` and emits one record per sample. Everything is read asynchronously from /proc and
 * /sys (systeminformation's mem() included): a sample never forks and never blocks the event loop.
 * A sampler cannot pause, so it emits with dropIfFull (the core drops and counts when full).
 */
import { definePlugin, nowNs, VERSION_RANGE, type LogRecord } from '../../core/index.js';
import { formatLine, formatTime, type LogField, type TimeFormat } from './resource-format.js';
import { loadMemSource } from './resource-mem.js';
import { ResourceSampler } from './resource-sampler.js';
import { schema } from './schema.js';

export default definePlugin({
  kind: 'input',
  name: 'resource',
  description: 'Samples CPU %, memory, load average, cgroup memory and per-process CPU/RSS from /proc every interval (no forks).',
  qlog: VERSION_RANGE,
  schema,
  check(o) {
    if (o.interval < 100) return { key: 'interval', message: `expected an interval of at least 100ms, found ${o.interval}ms` };
    return undefined;
  },
  setup(ctx) {
    const o = ctx.options;
    const fields = o.log_fields as LogField[];
    const timeFormat = o.time_format as TimeFormat;
    const src = `resource:${ctx.id}`;
    let sampler: ResourceSampler | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let busy = false;
    let inventory: Record<string, unknown> | undefined;
    let lastSeq = 0;
    let origin = 0;
    let lastError = '';

    const sampleOnce = async (): Promise<void> => {
      const s = await sampler!.sample();
      const time = nowNs();
      const body: Record<string, unknown> = { log: formatTime(Number(time / 1_000_000n), timeFormat) + formatLine(s, fields), ...s };
      if (inventory) {
        body.inventory = inventory;
        inventory = undefined;
      }
      if (stopped) return;
      // seq: sample time in ms, strictly increasing even if the wall clock steps back.
      lastSeq = Math.max(Date.now(), lastSeq + 1);
      const rec: LogRecord = { time, tag: ctx.tag, body, meta: { src, seq: lastSeq } };
      ctx.emit(ctx.tag, [rec], { dropIfFull: true });
      ctx.counters.add('samples');
      lastError = '';
    };

    const tick = (): void => {
      timer = undefined;
      if (stopped) return;
      if (!busy) {
        busy = true;
        sampleOnce()
          .catch((e: unknown) => {
            ctx.counters.add('sample_errors');
            const msg = (e as Error)?.message ?? String(e);
            if (msg !== lastError) ctx.log.warn({ err: e }, `${ctx.id}: sampling failed: ${msg}`);
            lastError = msg;
          })
          .finally(() => (busy = false));
      }
      schedule();
    };
    // Ticks stay on the grid start + k × interval (no drift); a sample still running skips a tick.
    const schedule = (): void => {
      if (stopped) return;
      const now = performance.now();
      const next = origin + Math.floor((now - origin) / o.interval + 1) * o.interval;
      timer = setTimeout(tick, next - now);
    };

    ctx.hooks.start.tapPromise('resource', async () => {
      sampler = new ResourceSampler({
        memSource: await loadMemSource(),
        cgroup: o.cgroup,
        processes: o.processes as (string | number)[],
        scanEvery: o.process_scan_every,
      });
      await sampler.init();
      if (o.inventory) inventory = { ...(await sampler.inventory(ctx.service.hostname)) };
      const cg = sampler.cgroup;
      ctx.log.debug({ cgroup: cg ? { version: cg.version, dir: cg.dir } : null }, `${ctx.id}: sampling every ${o.interval}ms`);
      origin = performance.now();
      schedule();
    });
    ctx.hooks.stop.tap('resource', () => {
      stopped = true;
      clearTimeout(timer);
    });
  },
});
