/**
 * redact: masks secrets (card numbers, cloud keys, tokens, private keys, URL passwords, e-mail
 * addresses on request, and the user's own patterns) in lines and object fields before records
 * leave the agent. Every regex is compiled once, when the config is read; user patterns run
 * under a per-chunk time budget.
 */
import { readFileSync } from 'node:fs';
import { chunkBytes, definePlugin, VERSION_RANGE, type Chunk, type Infer } from '../../core/index.js';
import { compilePattern, detectorRules, type Rule } from './redact-detectors.js';
import { Masker, Tally } from './redact-mask.js';
import { schema } from './schema.js';

type Options = Infer<typeof schema>;

function compilePatterns(o: Pick<Options, 'patterns'>): Rule[] | { key: string; message: string } {
  const rules: Rule[] = [];
  const names = new Set<string>();
  for (const p of o.patterns) {
    const r = compilePattern(p);
    if (typeof r === 'string') return { key: 'patterns', message: r };
    if (names.has(p.name)) return { key: 'patterns', message: `pattern name "${p.name}" is used twice; expected a unique name per pattern` };
    names.add(p.name);
    rules.push(r);
  }
  return rules;
}

function hashKey(o: Options): Buffer {
  if (o.hash_key_file) {
    const k = readFileSync(o.hash_key_file)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (k === '') throw new Error(`redact: hash_key_file ${o.hash_key_file} is empty; expected a secret key`);
    return Buffer.from(k);
  }
  const k = process.env[o.hash_key_env];
  if (!k) throw new Error(`redact: environment variable ${o.hash_key_env} (hash_key_env) is not set; expected the HMAC key`);
  return Buffer.from(k);
}

export default definePlugin({
  kind: 'filter',
  name: 'redact',
  description: 'Masks secrets (card numbers, cloud keys, JWTs, bearer tokens, private keys, URL passwords, your patterns) with a text or a keyed hash.',
  qlog: VERSION_RANGE,
  schema,
  check(o) {
    const rules = compilePatterns(o);
    if (!Array.isArray(rules)) return rules;
    if (o.mode === 'hash' && !o.hash_key_file === !o.hash_key_env) {
      return { key: 'mode', message: 'mode hash needs exactly one of hash_key_file or hash_key_env (the key never belongs in the YAML)' };
    }
    if (o.mode === 'text' && (o.hash_key_file || o.hash_key_env))
      return { key: o.hash_key_file ? 'hash_key_file' : 'hash_key_env', message: 'a hash key is only used with mode: hash' };
    if (o.mode === 'text' && o.replacement.includes('${hash}')) return { key: 'replacement', message: '${hash} needs mode: hash' };
    const unknown = /\$\{(?!rule\}|hash\})/.exec(o.replacement);
    if (unknown) return { key: 'replacement', message: `unknown placeholder at column ${unknown.index + 1}; expected \${rule} or \${hash}` };
    return undefined;
  },
  setup(ctx) {
    const o = ctx.options;
    const patterns = compilePatterns(o);
    if (!Array.isArray(patterns)) throw new Error(`redact: ${patterns.message}`);
    const hashed = o.mode === 'hash';
    const masker = new Masker({
      builtins: detectorRules(o.detectors),
      patterns,
      replacement: o.replacement || (hashed ? '[REDACTED:${rule}:${hash}]' : '[REDACTED:${rule}]'),
      hashKey: hashed ? hashKey(o) : undefined,
      hashChars: o.hash_chars,
      keys: o.keys,
      budgetMs: o.time_budget,
    });
    const c = ctx.counters;
    ctx.hooks.chunk.tap('redact', (chunk: Chunk) => {
      const t = new Tally();
      let changed = 0;
      let incomplete = 0;
      for (const r of chunk.records) {
        const b = r.body;
        const nb = typeof b === 'string' ? masker.line(b, t) : masker.object(b, t);
        if (nb !== b) {
          r.body = nb;
          changed++;
        }
        if (t.incomplete) {
          r.meta.redact_incomplete = true;
          t.incomplete = false;
          incomplete++;
        }
      }
      if (changed) {
        c.add('redact_records', changed);
        for (const [rule, n] of t.masked) c.add(`redact_${rule}`, n);
        chunk.bytes = chunkBytes(chunk.records);
      }
      for (const [rule, n] of t.overBudget) c.add(`redact_over_budget_${rule}`, n);
      if (incomplete) {
        c.add('redact_incomplete_records', incomplete);
        ctx.log.warn({ rules: [...t.overBudget.keys()], records: incomplete }, 'redact: patterns over time_budget were skipped for the rest of the chunk');
      }
      return chunk;
    });
  },
});
