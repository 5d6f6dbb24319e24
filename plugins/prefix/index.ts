/**
 * prefix: puts a templated text in front of every line ("tag every line with its source"), e.g.
 * `[${tag}] ` or `${host} ${path}: `. The template is compiled once (core/template.ts); a constant
 * prefix is rendered once, not per record.
 */
import { compileTemplate, TemplateError } from '../../core/template.js';
import { definePlugin, VERSION_RANGE, type Chunk } from '../../core/index.js';
import { schema } from './schema.js';

export default definePlugin({
  kind: 'filter',
  name: 'prefix',
  description: 'Prepends a template (e.g. "[${tag}] " or "${host} ${path}: ") to each line, or to a field of object records.',
  qlog: VERSION_RANGE,
  schema,
  check(o) {
    try {
      compileTemplate(o.prefix);
    } catch (e) {
      if (e instanceof TemplateError) return { key: 'prefix', message: e.message };
      throw e;
    }
    return undefined;
  },
  setup(ctx) {
    const { prefix, key } = ctx.options;
    const render = compileTemplate(prefix, { hostname: ctx.service.hostname });
    const fixed = render.constant ? render({ time: 0n, tag: '', body: '', meta: {} }) : undefined;
    ctx.hooks.chunk.tap('prefix', (chunk: Chunk) => {
      let added = 0;
      let skipped = 0;
      for (const r of chunk.records) {
        const p = fixed ?? render(r);
        const b = r.body;
        if (typeof b === 'string') {
          r.body = p + b;
        } else {
          const v = b[key];
          if (typeof v !== 'string') {
            skipped++;
            continue;
          }
          b[key] = p + v;
        }
        added += p.length;
      }
      chunk.bytes += added;
      if (skipped) ctx.counters.add('prefix_skipped', skipped);
      return chunk;
    });
  },
});
