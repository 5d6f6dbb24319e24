/**
 * grep rules: `KEY PATTERN` strings parsed and compiled once, and the key lookup they use.
 * A line record is addressed as `log`, as qlog writes a line record's body everywhere else.
 */
import type { LogRecord } from '../../core/index.js';
import { compileRegex, RuleError, scalarText } from '../../core/filter-rules.js';

export interface Rule {
  readonly source: string;
  readonly get: (r: LogRecord) => string | undefined;
  readonly re: RegExp;
}

/** `KEY REST`: the key and everything after the first run of spaces (REST may contain spaces). */
export function splitKey(option: string, text: string, need: string): [string, string] {
  const m = /^\s*(\S+)\s+(\S.*)$/s.exec(text);
  if (!m) throw new RuleError(option, `expected "KEY ${need}", found ${JSON.stringify(text)}`);
  return [m[1]!, m[2]!];
}

/**
 * The path of a key: `$a['b']['c']` (record accessor) or `a.b.c` (dotted); a leading `$` is
 * optional. Throws on a malformed accessor.
 */
export function keyPath(option: string, key: string): string[] {
  const k = key.startsWith('$') ? key.slice(1) : key;
  const bracket = k.indexOf('[');
  if (bracket < 0) {
    const parts = k.split('.');
    if (parts.some((p) => p === '')) throw new RuleError(option, `key ${JSON.stringify(key)} has an empty part`);
    return parts;
  }
  const path = [k.slice(0, bracket)];
  const rest = k.slice(bracket);
  const seg = /\['([^']*)'\]|\["([^"]*)"\]|\[(\d+)\]/y;
  let at = 0;
  while (at < rest.length) {
    seg.lastIndex = at;
    const m = seg.exec(rest);
    if (!m) throw new RuleError(option, `key ${JSON.stringify(key)}: expected ['name'] at ${JSON.stringify(rest.slice(at))}`);
    path.push(m[1] ?? m[2] ?? m[3]!);
    at = seg.lastIndex;
  }
  if (path[0] === '') throw new RuleError(option, `key ${JSON.stringify(key)} has no field before [`);
  return path;
}

/** The value at `path` as text (strings, numbers, booleans), or undefined when missing or not a scalar. */
export function compileGetter(path: readonly string[]): (r: LogRecord) => string | undefined {
  const [first, ...rest] = path;
  return (r) => {
    const b = r.body;
    if (typeof b === 'string') return rest.length === 0 && first === 'log' ? b : undefined;
    let v: unknown = b[first!];
    for (const p of rest) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return scalarText(v);
  };
}

export function compileRule(option: string, text: string): Rule {
  const [key, pattern] = splitKey(option, text, 'PATTERN');
  return { source: text, get: compileGetter(keyPath(option, key)), re: compileRegex(option, pattern) };
}

/** True when the rule's key holds a value its pattern matches (a missing key never matches). */
export function ruleMatches(rule: Rule, r: LogRecord): boolean {
  const v = rule.get(r);
  return v !== undefined && rule.re.test(v);
}
