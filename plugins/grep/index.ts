/**
 * grep: keeps or drops records by regular expressions on the line or on fields (Fluent Bit grep:
 * `regex`, `exclude`, `logical_op`). Every pattern is compiled once, at config time.
 */
import { definePlugin, VERSION_RANGE, type Chunk, type LogRecord } from '../../core/index.js';
import { checkRules, ruleList, RuleError } from '../../core/filter-rules.js';
import { compileRule, ruleMatches, type Rule } from './grep-rules.js';
import { schema } from './schema.js';

type Options = { regex: string | string[]; exclude: string | string[]; logical_op: 'legacy' | 'and' | 'or' };

/** The record test the options describe: true keeps the record. Throws RuleError on a bad rule. */
export function compileGrep(o: Options): (r: LogRecord) => boolean {
  const regex: Rule[] = ruleList(o.regex).map((t) => compileRule('regex', t));
  const exclude: Rule[] = ruleList(o.exclude).map((t) => compileRule('exclude', t));
  if (o.logical_op !== 'legacy' && regex.length && exclude.length) {
    throw new RuleError('logical_op', `"${o.logical_op}" combines rules of one kind: use either regex or exclude, not both (or logical_op: legacy)`);
  }
  const all = (rules: Rule[], r: LogRecord) => rules.every((x) => ruleMatches(x, r));
  const any = (rules: Rule[], r: LogRecord) => rules.some((x) => ruleMatches(x, r));
  switch (o.logical_op) {
    case 'and':
      return regex.length ? (r) => all(regex, r) : (r) => !all(exclude, r);
    case 'or':
      return regex.length ? (r) => any(regex, r) : (r) => !any(exclude, r);
    default:
      return (r) => all(regex, r) && !any(exclude, r);
  }
}

export default definePlugin({
  kind: 'filter',
  name: 'grep',
  description: 'Keeps or drops records whose line or field matches regular expressions (Fluent Bit grep: regex, exclude, logical_op).',
  qlog: VERSION_RANGE,
  schema,
  check: (o) => checkRules(() => compileGrep(o)),
  setup(ctx) {
    const keep = compileGrep(ctx.options);
    if (ruleList(ctx.options.regex).length + ruleList(ctx.options.exclude).length === 0) return;
    ctx.hooks.chunk.tap('grep', (chunk: Chunk) => {
      const recs = chunk.records;
      let i = 0;
      while (i < recs.length && keep(recs[i]!)) i++;
      if (i === recs.length) return chunk; // all kept: no new array
      const out = recs.slice(0, i);
      for (i++; i < recs.length; i++) if (keep(recs[i]!)) out.push(recs[i]!);
      chunk.records = out;
      return chunk;
    });
  },
});
