/** The masking itself: rules applied to lines, object bodies walked to a bounded depth. */
import { RULES, type Rule } from './rules.js';

export interface MaskOptions {
  rules: readonly string[];
  patterns: readonly string[];
  keys: readonly string[];
  mask: string;
  show_last: number;
}

/** What was masked: counts per rule name ('pattern' for extra patterns, 'key' for object fields). */
export class Hits {
  total = 0;
  readonly byRule = new Map<string, number>();
  add(rule: string): void {
    this.total++;
    this.byRule.set(rule, (this.byRule.get(rule) ?? 0) + 1);
  }
}

const MAX_DEPTH = 16;

/** `re` or `/re/flags` -> RegExp with the g flag (throws SyntaxError when invalid). */
export function parsePattern(p: string): RegExp {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(p);
  const [source, flags] = m ? [m[1]!, m[2]!] : [p, ''];
  return new RegExp(source, flags.includes('g') ? flags : flags + 'g');
}

export class Masker {
  private readonly rules: Rule[];
  private readonly extra: RegExp[];
  private readonly keys: Set<string>;
  private readonly masks = new Map<string, string>();

  constructor(private readonly opts: MaskOptions) {
    const wanted = new Set(opts.rules);
    this.rules = RULES.filter((r) => wanted.has(r.name));
    this.extra = opts.patterns.map(parsePattern);
    this.keys = new Set(opts.keys.map((k) => k.toLowerCase()));
    for (const name of [...RULES.map((r) => r.name), 'pattern', 'key']) this.masks.set(name, opts.mask.replaceAll('${rule}', name));
  }

  private maskFor(rule: string, secret: string): string {
    const n = this.opts.show_last;
    const mask = this.masks.get(rule)!;
    return n > 0 && secret.length >= 4 * n ? mask + secret.slice(-n) : mask;
  }

  private isMask(s: string): boolean {
    for (const m of this.masks.values()) if (s.startsWith(m)) return true;
    return false;
  }

  /** The line with every secret masked; `hits` counts what was found. */
  line(s: string, hits: Hits): string {
    for (const rule of this.rules) {
      if (typeof rule.hint === 'string' ? !s.includes(rule.hint) : !rule.hint.test(s)) continue;
      rule.re.lastIndex = 0;
      s = s.replace(rule.re, (all: string, prefix: string, secret: string) => {
        // A quoted secret keeps its quotes: "s3cr3t" -> "[REDACTED]".
        const q = secret.length >= 2 && (secret[0] === '"' || secret[0] === "'") && secret.endsWith(secret[0]) ? secret[0] : '';
        const inner = q ? secret.slice(1, -1) : secret;
        if (inner === '' || this.isMask(inner) || (rule.accept && !rule.accept(prefix, inner))) return all;
        hits.add(rule.name);
        return prefix + q + this.maskFor(rule.name, inner) + q;
      });
    }
    for (const re of this.extra) {
      re.lastIndex = 0;
      s = s.replace(re, (all: string, ...rest: unknown[]) => {
        const group = typeof rest[0] === 'string' ? rest[0] : undefined;
        if (all === '' || this.isMask(group ?? all)) return all;
        hits.add('pattern');
        if (group === undefined) return this.maskFor('pattern', all);
        const at = all.indexOf(group);
        return all.slice(0, at) + this.maskFor('pattern', group) + all.slice(at + group.length);
      });
    }
    return s;
  }

  /** A masked copy of an object body (the input is not modified); same object if nothing changed. */
  object(o: Record<string, unknown>, hits: Hits, depth = 0): Record<string, unknown> {
    let out: Record<string, unknown> | undefined;
    for (const k of Object.keys(o)) {
      const v = o[k];
      let nv: unknown = v;
      if (this.keys.has(k.toLowerCase()) && v !== null && v !== undefined && v !== '' && typeof v !== 'object') {
        if (!(typeof v === 'string' && this.isMask(v))) {
          hits.add('key');
          nv = this.maskFor('key', String(v));
        }
      } else nv = this.value(v, hits, depth + 1);
      if (nv !== v) (out ??= { ...o })[k] = nv;
    }
    return out ?? o;
  }

  private value(v: unknown, hits: Hits, depth: number): unknown {
    if (typeof v === 'string') return this.line(v, hits);
    if (depth > MAX_DEPTH || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      let out: unknown[] | undefined;
      v.forEach((x, i) => {
        const nx = this.value(x, hits, depth + 1);
        if (nx !== x) (out ??= v.slice())[i] = nx;
      });
      return out ?? v;
    }
    return this.object(v as Record<string, unknown>, hits, depth);
  }
}
