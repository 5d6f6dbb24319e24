/**
 * modify rules and conditions: parsed and compiled once into functions on a record's fields.
 * Keys are top-level fields (as in Fluent Bit modify); a line record is the object `{log: line}`.
 */
import { compileMatch } from '../../core/match.js';
import { compileRegex, RuleError, ruleList, scalarText } from '../../core/filter-rules.js';

type Fields = Record<string, unknown>;
/** Changes `f`; returns true when it changed something. */
export type Op = (f: Fields) => boolean;
export type Condition = (f: Fields) => boolean;

/** Splits `text` into `count` words; the last takes the rest of the text, spaces included only if `restIsText`. */
function words(option: string, text: string, format: string, count: number, restIsText = false): string[] {
  const out: string[] = [];
  let rest = text.trim();
  while (out.length < count - 1) {
    const m = /^(\S+)\s+/.exec(rest);
    if (!m) break;
    out.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  if (rest !== '') out.push(rest);
  if (out.length !== count || (!restIsText && /\s/.test(rest))) {
    throw new RuleError(option, `expected "${format}", found ${JSON.stringify(text)}`);
  }
  return out;
}

const has = (f: Fields, k: string) => Object.hasOwn(f, k);

export function compileCondition(spec: string): Condition {
  const type = /^\s*(\S+)/.exec(spec)?.[1] ?? '';
  switch (type.toLowerCase()) {
    case 'key_exists':
    case 'key_does_not_exist': {
      const [, k] = words('condition', spec, `${type} KEY`, 2);
      return type.toLowerCase() === 'key_exists' ? (f) => has(f, k!) : (f) => !has(f, k!);
    }
    case 'key_value_equals':
    case 'key_value_does_not_equal': {
      const [, k, v] = words('condition', spec, `${type} KEY VALUE`, 3, true);
      const eq = (f: Fields) => scalarText(f[k!]) === v;
      return type.toLowerCase() === 'key_value_equals' ? eq : (f) => !eq(f);
    }
    case 'key_value_matches':
    case 'key_value_does_not_match': {
      const [, k, p] = words('condition', spec, `${type} KEY REGEX`, 3, true);
      const re = compileRegex('condition', p!);
      const m = (f: Fields) => {
        const s = scalarText(f[k!]);
        return s !== undefined && re.test(s);
      };
      return type.toLowerCase() === 'key_value_matches' ? m : (f) => !m(f);
    }
    default:
      throw new RuleError(
        'condition',
        `unknown condition ${JSON.stringify(type)}; expected key_exists, key_does_not_exist, key_value_equals, key_value_does_not_equal, key_value_matches or key_value_does_not_match`,
      );
  }
}

function removeWhere(f: Fields, test: (k: string) => boolean): boolean {
  let changed = false;
  for (const k of Object.keys(f)) {
    if (test(k)) {
      delete f[k];
      changed = true;
    }
  }
  return changed;
}

/** The ops of one rule option (`set`, `rename` ...) for one `spec` string. */
export function compileOp(option: string, spec: string): Op {
  switch (option) {
    case 'set':
    case 'add': {
      const [k, v] = words(option, spec, 'KEY VALUE', 2, true);
      if (option === 'add') {
        return (f) => {
          if (has(f, k!)) return false;
          f[k!] = v;
          return true;
        };
      }
      return (f) => {
        f[k!] = v;
        return true;
      };
    }
    case 'remove': {
      const [k] = words(option, spec, 'KEY', 1);
      return (f) => has(f, k!) && delete f[k!];
    }
    case 'remove_wildcard': {
      const [p] = words(option, spec, 'PATTERN', 1);
      const match = compileMatch(p!);
      return (f) => removeWhere(f, match);
    }
    case 'remove_regex': {
      const re = compileRegex(option, words(option, spec, 'REGEX', 1, true)[0]!);
      return (f) => removeWhere(f, (k) => re.test(k));
    }
    case 'rename':
    case 'hard_rename':
    case 'copy':
    case 'hard_copy': {
      const [from, to] = words(option, spec, 'KEY NEW_KEY', 2);
      const hard = option.startsWith('hard_');
      const move = option.endsWith('rename');
      return (f) => {
        if (!has(f, from!) || from === to || (!hard && has(f, to!))) return false;
        f[to!] = f[from!];
        if (move) delete f[from!];
        return true;
      };
    }
    default:
      throw new Error(`modify: no rule "${option}"`);
  }
}

export const RULE_OPTIONS = ['set', 'add', 'remove', 'remove_wildcard', 'remove_regex', 'rename', 'hard_rename', 'copy', 'hard_copy'] as const;

export interface Modifier {
  readonly conditions: readonly Condition[];
  readonly ops: readonly Op[];
}

/** Conditions and rules of the options; rules run in the order their options appear in the config. */
export function compileModifier(o: Readonly<Record<string, unknown>>): Modifier {
  const conditions = ruleList((o.condition ?? []) as string | string[]).map(compileCondition);
  const ops: Op[] = [];
  for (const [option, v] of Object.entries(o)) {
    if (!(RULE_OPTIONS as readonly string[]).includes(option)) continue;
    for (const spec of ruleList(v as string | string[])) ops.push(compileOp(option, spec));
  }
  return { conditions, ops };
}
