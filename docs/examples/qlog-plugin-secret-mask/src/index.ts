/**
 * secret-mask: a qlog filter that masks secrets (private keys, tokens, passwords, AWS keys ...)
 * in log lines and object records before they leave the enclave.
 */
import { chunkBytes, definePlugin } from 'qlog';
import { Hits, Masker, parsePattern } from './mask.js';
import { schema } from './schema.js';

export { Hits, Masker, parsePattern } from './mask.js';
export { RULES, RULE_NAMES } from './rules.js';
export { schema } from './schema.js';

export default definePlugin({
  kind: 'filter',
  name: 'secret-mask',
  description: 'Masks secrets (private keys, JWTs, bearer tokens, AWS keys, passwords ...) in lines and object fields.',
  qlog: '^0.1.0',
  schema,
  check(options) {
    for (let i = 0; i < options.patterns.length; i++) {
      try {
        parsePattern(options.patterns[i]!);
      } catch (e) {
        return { key: 'patterns', message: `patterns[${i}] is not a valid regular expression: ${(e as Error).message}` };
      }
    }
    if (options.mask === '') return { key: 'mask', message: 'the mask must not be empty (a masked secret would vanish without a trace)' };
    return undefined;
  },
  setup(ctx) {
    const masker = new Masker(ctx.options);
    ctx.log.debug({ rules: ctx.options.rules, patterns: ctx.options.patterns.length }, 'secret-mask ready');

    ctx.hooks.chunk.tap('secret-mask', (chunk) => {
      const hits = new Hits();
      let changed = 0;
      for (const r of chunk.records) {
        const before = hits.total;
        r.body = typeof r.body === 'string' ? masker.line(r.body, hits) : masker.object(r.body, hits);
        if (hits.total > before) changed++;
      }
      if (changed) {
        ctx.counters.add('masked_records', changed);
        ctx.counters.add('masked_secrets', hits.total);
        for (const [rule, n] of hits.byRule) ctx.counters.add(`masked_${rule}`, n);
        chunk.bytes = chunkBytes(chunk.records);
      }
      return chunk;
    });
  },
});
