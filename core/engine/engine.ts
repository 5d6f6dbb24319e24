/**
 * The engine: builds plugin instances from a config, routes chunks (input -> matching filters
 * in config order -> matching outputs), and runs the lifecycle. Its own hooks are declared once
 * here (webpack style) and frozen.
 */
import { AsyncSeriesHook, SyncHook } from 'tapable';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/load.js';
import { chunkBytes, newChunkId, PackedChunk, recordCount, type Chunk, type LogRecord } from '../record.js';
import type { LabeledSample, ServiceInfo, Settlement } from '../plugin/define.js';
import { compileMatch, type TagMatcher } from '../match.js';
import type { InstanceBase } from './context.js';
import { withTimeout } from '../timeout.js';
import { FilterInstance } from './filter.js';
import { InputInstance } from './input.js';
import { OutputInstance } from './output.js';
import { Ticket } from './ticket.js';
import { QlogError } from '../errors.js';

interface Route {
  filters: FilterInstance[];
  outputs: OutputInstance[];
}

export interface InstanceMetrics {
  id: string;
  kind: 'input' | 'filter' | 'output';
  name: string;
  counters: Record<string, number>;
  /** Which of the counters are levels (gauges) rather than totals. */
  gauges: string[];
  /** Labeled values (e.g. per peer), when the plugin keeps any. */
  series?: LabeledSample[];
}

const MAX_ROUTES = 10_000;

export class Engine {
  readonly hooks = Object.freeze({
    /** After every instance started. */
    started: new AsyncSeriesHook<[]>(),
    /** Before instances stop. */
    stopping: new AsyncSeriesHook<[]>(),
    /** A chunk reached its outputs (notification; skipped when nobody listens). */
    routed: new SyncHook<[Chunk, number]>(['chunk', 'outputs']),
  });
  readonly inputs: InputInstance[] = [];
  readonly filters: FilterInstance[] = [];
  readonly outputs: OutputInstance[] = [];
  private readonly outputMatch = new Map<OutputInstance, TagMatcher>();
  private readonly routes = new Map<string, Route>();
  private unrouted = 0;
  /** The ticket of each chunk handed to a filter (for FilterContext.hold). */
  private readonly tickets = new WeakMap<Chunk, Ticket>();

  constructor(
    readonly config: AgentConfig,
    readonly service: ServiceInfo,
    private readonly logger: Logger,
  ) {
    const pipeline = {
      process: (c: Chunk, t: Ticket, from: InputInstance) => this.process(c, t, from, 0),
      outputsFor: (tag: string) => this.route(tag).outputs,
      filtered: (tag: string) => this.route(tag).filters.length > 0,
    };
    for (const [i, e] of config.inputs.entries()) this.inputs.push(new InputInstance(e, i, logger, service, pipeline));
    const hold = (c: Chunk) => {
      const t = this.tickets.get(c);
      if (!t) throw new Error('hold(): not a chunk this filter was handed');
      return t.hold();
    };
    for (const e of config.filters)
      this.filters.push(new FilterInstance(e, logger, service, (f, tag, recs, onSettled) => this.inject(f, tag, recs, onSettled), hold));
    for (const e of config.outputs) {
      const o = new OutputInstance(e, logger, service, () => this.onOutputRoom());
      this.outputs.push(o);
      this.outputMatch.set(o, compileMatch(e.common.match as string | string[]));
    }
  }

  private all(): InstanceBase[] {
    return [...this.outputs, ...this.filters, ...this.inputs];
  }

  /** Call every plugin's setup (outputs first). A failing setup is fatal: the config cannot run. */
  async setup(): Promise<void> {
    for (const inst of this.all()) {
      const ctx = inst instanceof InputInstance || inst instanceof FilterInstance || inst instanceof OutputInstance ? inst.context() : undefined;
      try {
        await withTimeout(Promise.resolve((inst.plugin.setup as (c: unknown) => unknown)(ctx)), this.service.graceMs, `${inst.id} setup`);
      } catch (e) {
        throw new QlogError('QLOG_ERR_PLUGIN_SETUP', { id: inst.id, phase: 'setup', reason: (e as Error)?.message ?? String(e) }, { cause: e });
      }
      if (inst instanceof OutputInstance && !inst.hooks.flush.isUsed()) throw new QlogError('QLOG_ERR_PLUGIN_SETUP/no-flush', { name: inst.name, id: inst.id });
    }
  }

  /** Start outputs, then filters, then inputs, so data never arrives before its destination is ready. */
  async start(): Promise<void> {
    for (const inst of this.all()) {
      const hooks = (inst as OutputInstance | FilterInstance | InputInstance).hooks;
      await withTimeout(hooks.start.promise(), Math.max(this.service.graceMs, 1000), `${inst.id} start`);
    }
    await this.hooks.started.promise();
  }

  /**
   * Graceful stop: inputs stop producing, their queued chunks pass the filters, outputs drain
   * for up to `graceMs`, then everything stops. Returns the number of records left undelivered.
   */
  async stop(graceMs = this.service.graceMs): Promise<number> {
    const deadline = Date.now() + graceMs;
    const left = () => Math.max(0, deadline - Date.now());
    await this.hooks.stopping.promise().catch((e) => this.logger.error({ err: e }, 'stopping hook failed'));
    await Promise.all(
      this.inputs.map(async (i) => {
        i.stopped = true;
        i.releaseWaiters();
        await withTimeout(i.hooks.stop.promise(), left() || 1, `${i.id} stop`).catch((e) => i.fail('stop', e));
      }),
    );
    await withTimeout(Promise.all(this.inputs.map((i) => i.flushed())), left() || 1, 'input queues').catch(() => undefined);
    const drained = await Promise.all(this.outputs.map((o) => o.drain(left())));
    let lost = 0;
    this.outputs.forEach((o, i) => {
      if (!drained[i]) {
        const n = o.abandon();
        lost += n;
        o.log.warn(
          { records: n },
          `${o.id}: not drained within the grace period; ${n} queued records were not delivered (inputs that track offsets read them again after restart)`,
        );
      }
    });
    for (const i of this.inputs) {
      await withTimeout(i.hooks.drained.promise(), Math.max(left(), 1000), `${i.id} drained`).catch((e) => i.fail('drained', e));
    }
    for (const inst of [...this.filters, ...this.outputs]) {
      await withTimeout(inst.hooks.stop.promise(), Math.max(left(), 1000), `${inst.id} stop`).catch((e) => inst.fail('stop', e));
    }
    return lost;
  }

  private route(tag: string): Route {
    let r = this.routes.get(tag);
    if (!r) {
      r = { filters: this.filters.filter((f) => f.matches(tag)), outputs: this.outputs.filter((o) => this.outputMatch.get(o)!(tag)) };
      if (this.routes.size >= MAX_ROUTES) this.routes.clear();
      this.routes.set(tag, r);
    }
    return r;
  }

  private async process(chunk: Chunk, ticket: Ticket, from: InputInstance | undefined, startAt: number): Promise<void> {
    const route = this.route(chunk.tag);
    let c = chunk;
    // Filters get plain chunks (records built from packed blocks here).
    if (route.filters.length > 0 && c instanceof PackedChunk) c = { id: c.id, tag: c.tag, records: c.records, bytes: c.bytes };
    for (let i = 0; i < route.filters.length; i++) {
      const f = route.filters[i]!;
      if (startAt && this.filters.indexOf(f) < startAt) continue;
      this.tickets.set(c, ticket);
      c = await f.run(c);
      if (c.records.length === 0) break;
    }
    const n = recordCount(c);
    if (n === 0) return ticket.expect(0);
    if (route.outputs.length === 0) {
      if (this.unrouted++ % 10_000 === 0)
        this.logger.warn({ tag: c.tag }, `no output matches tag "${c.tag}"; its records are discarded (check the outputs' match)`);
      from?.counters.add('unrouted_records', n);
    }
    ticket.expect(route.outputs.length);
    for (const o of route.outputs) {
      from?.feeds.add(o);
      o.enqueue(c, ticket);
    }
    if (this.hooks.routed.isUsed()) this.hooks.routed.call(c, route.outputs.length);
  }

  private inject(from: FilterInstance, tag: string, records: LogRecord[], onSettled?: (s: Settlement) => void): void {
    if (!records.length) return onSettled?.({ delivered: true });
    const chunk: Chunk = { id: newChunkId(), tag, records, bytes: chunkBytes(records) };
    void this.process(chunk, new Ticket(onSettled), undefined, this.filters.indexOf(from) + 1).catch((e) => from.fail('emit', e));
  }

  private onOutputRoom(): void {
    for (const i of this.inputs) i.maybeResume();
  }

  metrics(): InstanceMetrics[] {
    const m = (kind: InstanceMetrics['kind'], i: InstanceBase): InstanceMetrics => {
      const x: InstanceMetrics = { id: i.id, kind, name: i.name, counters: i.counters.snapshot(), gauges: i.counters.gauges() };
      const series = i.counters.series();
      if (series.length) x.series = series;
      return x;
    };
    const out = [...this.inputs.map((i) => m('input', i)), ...this.filters.map((f) => m('filter', f))];
    for (const o of this.outputs) {
      const x = m('output', o);
      x.counters.buffered_bytes = o.bufferedBytes;
      x.gauges.push('buffered_bytes');
      out.push(x);
    }
    return out;
  }
}
