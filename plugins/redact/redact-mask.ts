/**
 * The masking: rules run over a string in order, each match's secret replaced by a token (text,
 * or a keyed hash); object bodies are walked. Counts what was masked per rule, and how long each
 * user pattern ran in the current chunk, so a slow one can be cut off (see time_budget).
 */
import { createHmac } from 'node:crypto';
import type { Rule } from './redact-detectors.js';

const MAX_DEPTH = 32;

/** Per-chunk tally: masks per rule, patterns cut off and records left incompletely scanned. */
export class Tally {
  readonly masked = new Map<string, number>();
  readonly overBudget = new Map<string, number>();
  /** Milliseconds each timed rule used in this chunk. */
  readonly spent = new Map<string, number>();
  incomplete = false;
  add(map: Map<string, number>, rule: string, n = 1): void {
    map.set(rule, (map.get(rule) ?? 0) + n);
  }
}

export interface MaskerOptions {
  /** Built-in rules: trusted to be linear, never timed. */
  builtins: readonly Rule[];
  /** User rules: timed against the budget. */
  patterns: readonly Rule[];
  /** Replacement with ${rule} and ${hash}. */
  replacement: string;
  /** HMAC key (mode hash) or undefined (mode text). */
  hashKey: Buffer | undefined;
  hashChars: number;
  /** Object fields scanned; empty = all. */
  keys: readonly string[];
  budgetMs: number;
}

export class Masker {
  private readonly rules: { rule: Rule; timed: boolean; text: string }[];
  private readonly keys: Set<string> | undefined;

  constructor(private readonly o: MaskerOptions) {
    const textOf = (name: string) => o.replacement.replaceAll('${rule}', name);
    this.rules = [
      ...o.builtins.map((rule) => ({ rule, timed: false, text: textOf(rule.name) })),
      ...o.patterns.map((rule) => ({ rule, timed: true, text: textOf(rule.name) })),
    ];
    this.keys = o.keys.length ? new Set(o.keys) : undefined;
  }

  private token(text: string, secret: string): string {
    if (!this.o.hashKey) return text;
    const h = createHmac('sha256', this.o.hashKey).update(secret).digest('hex').slice(0, this.o.hashChars);
    return text.replaceAll('${hash}', h);
  }

  /** `s` with every secret masked. */
  line(s: string, t: Tally): string {
    for (const { rule, timed, text } of this.rules) {
      const hint = rule.hint;
      if (hint !== undefined && (typeof hint === 'string' ? !s.includes(hint) : !hint.test(s))) continue;
      let began = 0;
      if (timed) {
        const spent = t.spent.get(rule.name) ?? 0;
        if (spent > this.o.budgetMs) {
          t.incomplete = true;
          continue;
        }
        began = performance.now();
      }
      s = this.apply(rule, text, s, t);
      if (timed) {
        const spent = (t.spent.get(rule.name) ?? 0) + performance.now() - began;
        t.spent.set(rule.name, spent);
        if (spent > this.o.budgetMs) t.add(t.overBudget, rule.name);
      }
    }
    return s;
  }

  private apply(rule: Rule, text: string, s: string, t: Tally): string {
    const re = rule.re;
    re.lastIndex = 0;
    let out = '';
    let last = 0;
    let n = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      if (m[0] === '') {
        re.lastIndex++;
        continue;
      }
      const span = (rule.group === undefined ? undefined : typeof rule.group === 'number' ? m.indices?.[rule.group] : m.indices?.groups?.[rule.group]) ?? [
        m.index,
        m.index + m[0].length,
      ];
      const secret = s.slice(span[0], span[1]);
      if (secret === '' || (rule.accept && !rule.accept(secret))) continue;
      out += s.slice(last, span[0]) + this.token(text, secret);
      last = span[1];
      n++;
    }
    if (n === 0) return s;
    t.add(t.masked, rule.name, n);
    return out + s.slice(last);
  }

  /** A masked copy of an object body (the input is left as is); the same object when nothing changed. */
  object(o: Record<string, unknown>, t: Tally, depth = 0): Record<string, unknown> {
    let out: Record<string, unknown> | undefined;
    for (const k of Object.keys(o)) {
      if (depth === 0 && this.keys && !this.keys.has(k)) continue;
      const v = o[k];
      const nv = this.value(v, t, depth + 1);
      if (nv !== v) (out ??= { ...o })[k] = nv;
    }
    return out ?? o;
  }

  private value(v: unknown, t: Tally, depth: number): unknown {
    if (typeof v === 'string') return this.line(v, t);
    if (depth > MAX_DEPTH || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const nx = this.value(v[i], t, depth + 1);
        if (nx !== v[i]) (out ??= v.slice())[i] = nx;
      }
      return out ?? v;
    }
    return this.object(v as Record<string, unknown>, t, depth);
  }
}
