/**
 * Pieces shared by filters configured with rule strings (`regex: 'log ^ERROR'`, `set: 'env prod'`):
 * an option holding one rule or a list, regular expressions compiled at config time with an
 * error naming the option, and a field's value as the text a rule compares.
 */

/** A config mistake in one option: a plugin's `check` returns `{ key, message }` from it. */
export class RuleError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

/** One rule string or a list of them, as `anyOf: [string, string[]]` options allow. */
export function ruleList(v: string | readonly string[]): readonly string[] {
  return typeof v === 'string' ? [v] : v;
}

/** A JavaScript regular expression, or a RuleError naming `option`. */
export function compileRegex(option: string, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new RuleError(
      option,
      `invalid regular expression ${JSON.stringify(source)}: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`,
    );
  }
}

/** A field's value as text: strings as they are, numbers and booleans as written; else undefined. */
export function scalarText(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    default:
      return undefined;
  }
}

/** `check` for such a filter: runs the compiler and turns a RuleError into `{ key, message }`. */
export function checkRules(compile: () => unknown): { key: string; message: string } | undefined {
  try {
    compile();
  } catch (e) {
    if (e instanceof RuleError) return { key: e.key, message: e.message };
    throw e;
  }
  return undefined;
}
