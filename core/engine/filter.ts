/** A filter instance: its `chunk` waterfall hook transforms chunks; failures pass the chunk through unchanged. */
import { AsyncSeriesHook, AsyncSeriesWaterfallHook } from 'tapable';
import type { Logger } from 'pino';
import { chunkBytes, type Chunk, type LogRecord } from '../record.js';
import type { FilterContext, FilterHooks, ServiceInfo, Settlement } from '../plugin/define.js';
import type { EntryConfig } from '../config/load.js';
import { compileMatch, type TagMatcher } from '../match.js';
import { InstanceBase } from './context.js';

export class FilterInstance extends InstanceBase {
  readonly hooks: FilterHooks = Object.freeze({
    start: new AsyncSeriesHook<[]>(),
    stop: new AsyncSeriesHook<[]>(),
    chunk: new AsyncSeriesWaterfallHook<[Chunk]>(['chunk']),
  });
  readonly matches: TagMatcher;

  constructor(
    entry: EntryConfig,
    logger: Logger,
    service: ServiceInfo,
    private readonly inject: (from: FilterInstance, tag: string, records: LogRecord[], onSettled?: (s: Settlement) => void) => void,
    private readonly holdChunk: (chunk: Chunk) => (delivered: boolean) => void,
  ) {
    super(entry, logger, service);
    this.matches = compileMatch(entry.common.match as string | string[]);
  }

  context(): FilterContext<unknown> {
    return {
      ...this.baseContext(),
      hooks: this.hooks,
      emit: (tag, records, opts) => this.inject(this, tag, records, opts?.onSettled),
      hold: (chunk) => this.holdChunk(chunk),
    };
  }

  /** Run the filter on a chunk. A throwing filter is contained: counted, logged, chunk passed on unchanged. */
  async run(chunk: Chunk): Promise<Chunk> {
    const n = chunk.records.length;
    this.counters.add('records_in', n);
    this.counters.add('bytes_in', chunk.bytes);
    let out: Chunk;
    try {
      out = (await this.hooks.chunk.promise(chunk)) ?? chunk;
      if (!Array.isArray(out.records)) throw new Error('the chunk hook must return a chunk');
    } catch (e) {
      this.fail('filter', e);
      out = chunk;
    }
    if (out.records.length !== n) out.bytes = chunkBytes(out.records);
    this.counters.add('records_out', out.records.length);
    this.counters.add('bytes_out', out.bytes);
    if (out.records.length < n) this.counters.add('dropped_records', n - out.records.length);
    return out;
  }
}
