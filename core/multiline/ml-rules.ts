/**
 * Regex multiline rules as Fluent Bit's [MULTILINE_PARSER] type regex has them: each rule is
 * [from states, regex, next state]. A line that matches a rule of `start_state` starts a record;
 * while a record is open, the rules of its current state say which lines continue it. A state
 * whose rules include a start rule ends the record at once (nothing can continue it). Compiled
 * once; a bad regex or an unknown next state is a MultilineDefinitionError naming the rule.
 */

export const START_STATE = 'start_state';

/** One rule as written: ["start_state, other", "/regex/", "next"] or {state, regex, next_state}. */
export type RuleDefinition = readonly [string, string, string] | { readonly state: string; readonly regex: string; readonly next_state: string };

export class MultilineDefinitionError extends Error {
  constructor(
    /** Where in the entry: e.g. ['rules', 2, 1] (the regex of the third rule). */
    readonly at: readonly (string | number)[],
    message: string,
  ) {
    super(message);
  }
}

interface Rule {
  readonly from: readonly string[];
  readonly re: RegExp;
  readonly to: string;
  readonly start: boolean;
}

/** Where a line takes an open record (or a new one). */
export interface Transition {
  readonly to: string;
  /** The record is complete with this line (its next state can only start a new record). */
  readonly ends: boolean;
}

/** `/re/` (Fluent Bit writes regexes between slashes) or a bare pattern. */
export function stripSlashes(pattern: string): string {
  return pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/') ? pattern.slice(1, -1) : pattern;
}

export class RuleMachine {
  private readonly startRules: Rule[];
  /** Continuation rules per state, in rule order. */
  private readonly byState = new Map<string, Rule[]>();
  private readonly ending = new Set<string>();

  constructor(defs: readonly RuleDefinition[]) {
    const rules = defs.map((d, i): Rule => {
      const [state, regex, to] = Array.isArray(d)
        ? (d as readonly [string, string, string])
        : [(d as { state: string }).state, (d as { regex: string }).regex, (d as { next_state: string }).next_state];
      const from = state
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (!from.length) throw new MultilineDefinitionError(['rules', i, 0], 'expected a state name (or a comma-separated list), found none');
      let re: RegExp;
      try {
        re = new RegExp(stripSlashes(regex));
      } catch (e) {
        throw new MultilineDefinitionError(['rules', i, 1], `invalid regex: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
      }
      return { from, re, to: to.trim(), start: from.includes(START_STATE) };
    });
    this.startRules = rules.filter((r) => r.start);
    if (!this.startRules.length)
      throw new MultilineDefinitionError(['rules'], `expected a rule of state "${START_STATE}" (the first line of a record), found none`);
    const states = new Set(rules.flatMap((r) => r.from));
    rules.forEach((r, i) => {
      if (!states.has(r.to)) throw new MultilineDefinitionError(['rules', i, 2], `next state "${r.to}" has no rules; known states: ${[...states].join(', ')}`);
    });
    for (const s of states) {
      const own = rules.filter((r) => r.from.includes(s));
      this.byState.set(
        s,
        own.filter((r) => !r.start),
      );
      if (own.some((r) => r.start)) this.ending.add(s);
    }
  }

  /** A line that starts a record, or undefined. */
  start(text: string): Transition | undefined {
    for (const r of this.startRules) if (r.re.test(text)) return { to: r.to, ends: this.ending.has(r.to) };
    return undefined;
  }

  /** A line that continues a record in `state`, or undefined. */
  next(state: string, text: string): Transition | undefined {
    const rules = this.byState.get(state);
    if (rules) for (const r of rules) if (r.re.test(text)) return { to: r.to, ends: this.ending.has(r.to) };
    return undefined;
  }
}
