/**
 * modify: sets, adds, renames, copies and removes record fields, optionally under conditions
 * (Fluent Bit modify). A line record is the object `{log: line}`: it stays a line while `log` is
 * its only field and a string, and becomes an object record otherwise.
 */
import { chunkBytes, definePlugin, VERSION_RANGE, type Chunk, type LogRecord } from '../../core/index.js';
import { checkRules } from '../../core/filter-rules.js';
import { compileModifier, type Modifier } from './modify-rules.js';
import { schema } from './schema.js';

/** Applies the modifier to one record; true when the record changed. */
export function modifyRecord(m: Modifier, r: LogRecord): boolean {
  const b = r.body;
  const f = typeof b === 'string' ? { log: b } : b;
  for (const c of m.conditions) if (!c(f)) return false;
  let changed = false;
  for (const op of m.ops) if (op(f)) changed = true;
  if (changed && typeof b === 'string') {
    const keys = Object.keys(f);
    r.body = keys.length === 1 && keys[0] === 'log' && typeof f.log === 'string' ? f.log : f;
  }
  return changed;
}

export default definePlugin({
  kind: 'filter',
  name: 'modify',
  description: 'Sets, adds, renames, copies and removes record fields, optionally under conditions (Fluent Bit modify).',
  qlog: VERSION_RANGE,
  schema,
  check: (o) => checkRules(() => compileModifier(o)),
  setup(ctx) {
    const m = compileModifier(ctx.options);
    if (m.ops.length === 0) return;
    ctx.hooks.chunk.tap('modify', (chunk: Chunk) => {
      let changed = false;
      for (const r of chunk.records) if (modifyRecord(m, r)) changed = true;
      if (changed) chunk.bytes = chunkBytes(chunk.records);
      return chunk;
    });
  },
});
