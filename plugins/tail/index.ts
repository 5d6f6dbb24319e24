/**
 * tail: follows log files like `tail -F`, with rotation, truncation and restart handling, and
 * commits read offsets only when the core reports the records settled (end-to-end ack).
 * The work is done by Follower (tail-follower.ts), which does not depend on the core.
 */
import { definePlugin, VERSION_RANGE } from '../../core/index.js';
import { parseRecords } from '../../core/parsers/parse-records.js';
import { ParserSet } from '../../core/parsers/registry.js';
import { MultilineSet } from '../../core/multiline/ml-registry.js';
import { blockRecords } from '../../core/record.js';
import { schema } from './schema.js';
import { Follower } from './tail-follower.js';
import { compilePaths, splitList } from './tail-scan.js';

export default definePlugin({
  kind: 'input',
  name: 'tail',
  description: 'Follows log files (glob patterns) line by line through rotation and truncation; offsets are committed when outputs acknowledge.',
  qlog: VERSION_RANGE,
  schema,
  check(o) {
    if (splitList(o.path).length === 0) return { key: 'path', message: 'expected at least one path or pattern, found none' };
    if (o.buffer_chunk_size < 1024) return { key: 'buffer_chunk_size', message: `expected at least 1KiB, found ${o.buffer_chunk_size} bytes` };
    if (o.buffer_max_size < 64) return { key: 'buffer_max_size', message: `expected at least 64 bytes, found ${o.buffer_max_size}` };
    if (o.poll_interval < 10) return { key: 'poll_interval', message: `expected at least 10ms, found ${o.poll_interval}ms` };
    if (o.refresh_interval < 10) return { key: 'refresh_interval', message: `expected at least 10ms, found ${o.refresh_interval}ms` };
    return undefined;
  },
  setup(ctx) {
    const o = ctx.options;
    // With a parser, lines become records here; without one they stay bytes (LineBlock).
    const parsers = o.parser ? (ctx.service.parsers ?? new ParserSet()).resolve(o.parser) : undefined;
    const lineOnly = { key: 'log', reserve: false, preserve: false };
    const multiline = o.multiline
      ? {
          machine: (ctx.service.multiline ?? new MultilineSet()).machine(o.multiline, ctx.service.parsers),
          limits: { maxLines: o.multiline_max_lines, maxBytes: o.multiline_max_bytes, budgetMs: o.multiline_time_budget },
        }
      : undefined;
    const follower = new Follower(
      {
        paths: compilePaths(o.path, o.exclude_path, ctx.service.configDir),
        tag: ctx.tag,
        readFromHead: o.read_from_head,
        rotateWaitMs: o.rotate_wait,
        refreshMs: o.refresh_interval,
        readSize: o.buffer_chunk_size,
        maxLine: o.buffer_max_size,
        ignoreOlderMs: o.ignore_older,
        offsetsExpireMs: o.offsets_expire,
        watcher: o.watcher,
        pollMs: o.poll_interval,
        pathKey: o.path_key === 'path' ? '' : o.path_key,
        statePath: ctx.statePath('offsets.json'),
        multiline,
      },
      {
        emitLines: (tag, block, bytes, onSettled) => {
          if (parsers === undefined) return ctx.emitLines(tag, block, { bytes, onSettled: () => onSettled() });
          const records = blockRecords([block], tag);
          const { errors } = parseRecords(parsers, records, lineOnly);
          if (errors) ctx.counters.add('parse_errors', errors);
          return ctx.emit(tag, records, { bytes, onSettled: () => onSettled() });
        },
        emitRecords: (tag, records, bytes, onSettled) => {
          if (parsers !== undefined) {
            const { errors } = parseRecords(parsers, records, lineOnly);
            if (errors) ctx.counters.add('parse_errors', errors);
          }
          return ctx.emit(tag, records, { bytes, onSettled: () => onSettled() });
        },
        ready: () => ctx.ready(),
        count: (name, n) => ctx.counters.add(name, n),
        gauge: (name, v) => ctx.counters.set(name, v),
        log: ctx.log,
      },
    );
    ctx.hooks.start.tapPromise('tail', () => follower.start());
    // Stop reading on stop; write the offsets once the outputs drained (no settlement follows).
    ctx.hooks.stop.tapPromise('tail', () => follower.stop());
    ctx.hooks.drained.tapPromise('tail', () => follower.close());
  },
});
