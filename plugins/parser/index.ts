/**
 * parser: parses a field (or the whole line) with named parsers (Fluent Bit's parser filter:
 * key_name, parser, reserve_data, preserve_key). A record no parser reads passes unchanged and is
 * counted as a parse error: nothing is dropped.
 */
import { definePlugin, VERSION_RANGE, type Chunk } from '../../core/index.js';
import { parseRecords } from '../../core/parsers/parse-records.js';
import { ParserSet } from '../../core/parsers/registry.js';
import { schema } from './schema.js';

export default definePlugin({
  kind: 'filter',
  name: 'parser',
  description: 'Parses a field (key_name) or the whole line with named parsers (json, regex, logfmt, ltsv; built-ins for syslog, nginx, apache, CRI, Docker).',
  qlog: VERSION_RANGE,
  schema,
  setup(ctx) {
    const parsers = (ctx.service.parsers ?? new ParserSet()).resolve(ctx.options.parser);
    const opts = { key: ctx.options.key_name, reserve: ctx.options.reserve_data, preserve: ctx.options.preserve_key };
    ctx.hooks.chunk.tap('parser', (chunk: Chunk) => {
      const { errors, skipped } = parseRecords(parsers, chunk.records, opts);
      if (errors) ctx.counters.add('parse_errors', errors);
      if (skipped) ctx.counters.add('parser_skipped', skipped);
      return chunk;
    });
  },
});
