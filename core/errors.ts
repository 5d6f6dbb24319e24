/**
 * qlog's one error layer (fastify style): every message a user can see comes from the table in
 * ./errors/messages.ts, keyed by a message id (a code, or `CODE/variant`). Errors are QlogError
 * or one of its subclasses, made from an id and its parameters, never from a sentence written
 * where they are thrown. test/core/errors.test.ts ties every message to docs/errors.md.
 */
import { ERRORS } from './errors/messages.js';

export { ERRORS };

/** A message id: `QLOG_ERR_AREA_WHAT` or `QLOG_ERR_AREA_WHAT/variant`. */
export type MessageId = keyof typeof ERRORS;
/** The code of a message id: what users, docs and programs match on. */
export type CodeOf<I extends string> = I extends `${infer C}/${string}` ? C : I;
export type ErrorCode = CodeOf<MessageId>;

type NotWord = ' ' | '"' | "'" | '{' | '}' | ':' | '.' | '$' | ',' | '(' | ')' | '/' | '-' | '<' | '[';
/** Names of the `{placeholders}` in a message (not `${...}`, which is literal text). */
type Placeholders<S extends string> = S extends `${infer A}{${infer Rest}`
  ? Rest extends `${infer P}}${infer R}`
    ? P extends '' | `${string}${NotWord}${string}`
      ? Placeholders<Rest>
      : A extends `${string}$`
        ? Placeholders<R>
        : P | Placeholders<R>
    : never
  : never;
export type Param = string | number;
export type ParamsOf<I extends MessageId> = { [K in Placeholders<(typeof ERRORS)[I]>]: Param };
/** `(id)` for a message without placeholders, `(id, params)` otherwise; then `{ cause }`. */
export type ErrorArgs<I extends MessageId> = [keyof ParamsOf<I>] extends [never]
  ? [params?: ParamsOf<I>, options?: ErrorOptions]
  : [params: ParamsOf<I>, options?: ErrorOptions];

const PLACEHOLDER = /(?<!\$)\{(\w+)\}/g;

export function codeOf<I extends MessageId>(id: I): CodeOf<I> {
  const slash = id.indexOf('/');
  return (slash < 0 ? id : id.slice(0, slash)) as CodeOf<I>;
}

/** The message of `id` with its placeholders filled (a missing parameter stays `{name}`). */
export function formatError<I extends MessageId>(id: I, ...[params]: ErrorArgs<I>): string {
  const p = (params ?? {}) as Record<string, Param>;
  return ERRORS[id].replace(PLACEHOLDER, (m, k: string) => (k in p ? String(p[k]) : m));
}

/** The placeholder names of a message (tests and docs use them). */
export function placeholders(id: MessageId): string[] {
  return [...ERRORS[id].matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** An error a user can see: `code` from the table, `message` from its message id. */
export class QlogError<I extends MessageId = MessageId> extends Error {
  readonly code: CodeOf<I>;
  constructor(id: I, ...[params, options]: ErrorArgs<I>) {
    super(formatError(id, ...([params] as ErrorArgs<I>)), options);
    this.code = codeOf(id);
    this.name = 'QlogError';
  }
}

/** The factory form of `new QlogError(id, params)`. */
export function createError<I extends MessageId>(id: I, ...args: ErrorArgs<I>): QlogError<I> {
  return new QlogError(id, ...args);
}

/** Ids whose code starts with `Prefix` (the message ids a subclass may use). */
export type IdsOf<Prefix extends string> = Extract<MessageId, `${Prefix}${string}`>;

/**
 * A command-line mistake (code QLOG_ERR_USAGE; the CLI prints it without the code, exit 2).
 * `usage`, when given, is the command's usage text, printed after the message and a blank line.
 */
export class UsageError<I extends IdsOf<'QLOG_ERR_USAGE'> = IdsOf<'QLOG_ERR_USAGE'>> extends QlogError<I> {
  constructor(id: I, params: ParamsOf<I>, usage?: string) {
    super(id, ...([params] as ErrorArgs<I>));
    this.name = 'UsageError';
    if (usage !== undefined) this.message += `\n\n${usage}`;
  }
}

/** A config problem located in a file. `toString()` gives `file:line:col: path: message`. */
export class ConfigIssue {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly path: string,
  ) {}
  toString(): string {
    const where = this.line > 0 ? `${this.file}:${this.line}:${this.col}` : this.file;
    return `${where}: ${this.path ? `${this.path}: ` : ''}${this.message}`;
  }
}

/** Thrown when a config file is invalid; carries every issue found, one per line. Exit status 2. */
export class ConfigError extends QlogError<'QLOG_ERR_CONFIG'> {
  constructor(readonly issues: ConfigIssue[]) {
    super('QLOG_ERR_CONFIG', { issues: issues.map(String).join('\n') });
    this.name = 'ConfigError';
  }
}

/** Edit distance, for "did you mean" hints. */
export function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** ` (did you mean "x"?)` for the closest candidate, or '' if nothing is close. */
export function didYouMean(found: string, candidates: readonly string[]): string {
  let best = '';
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(found.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best && bestD <= Math.max(2, Math.floor(found.length / 3)) ? ` (did you mean "${best}"?)` : '';
}
