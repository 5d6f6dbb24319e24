/**
 * Run-time templates: `[${tag}] `, `${host} ${path}: `, `${env:STAGE}-${cid}.log` ...
 *
 * A template is parsed once into literal parts and getters, so rendering a record is a few
 * property reads and string concatenations (no per-record parsing, no regular expressions).
 *
 * Placeholders:
 *  - `${tag}`            the record's tag
 *  - `${host}`           meta.host, else the agent's host name (service.hostname or os.hostname())
 *  - `${time}`           the record's time as ISO 8601 (UTC, nanosecond precision: 9 digits)
 *  - `${body}`           the line (string body) or the body as JSON (object body)
 *  - `${path}`, `${cid}`, `${name}` ...  meta[name] when set, else body[name] for object bodies
 *  - `${meta.name}`      metadata only;  `${body.a.b}` body field only (dotted paths descend)
 *  - `${env:NAME}`       environment variable, read once when the template is compiled
 *  - `${name:-fallback}` fallback text when the value is missing or empty
 *  - `$${`               a literal `${`
 * A name that resolves to nothing renders as the empty string. Objects render as JSON.
 */
import { hostname } from 'node:os';
import { isoTimeNs, toJson, type LogRecord } from './record.js';
import { QlogError, type ErrorArgs, type IdsOf, type ParamsOf } from './errors.js';
import { scalarText } from './filter-rules.js';

export type Template = ((rec: LogRecord) => string) & {
  /** The template text as written. */
  readonly source: string;
  /** Names referenced by the template, in order of first appearance (see templateKeys). */
  readonly keys: readonly string[];
  /** True when the template has no record-dependent placeholder (renders the same for every record). */
  readonly constant: boolean;
};

/** A template that cannot be parsed; `column` is 1-based within the template text. */
export class TemplateError<I extends TemplateIds = TemplateIds> extends QlogError<I> {
  override name = 'TemplateError';
  constructor(
    id: I,
    readonly source: string,
    readonly column: number,
    params?: Omit<ParamsOf<I>, 'column' | 'template'>,
  ) {
    super(id, ...([{ ...params, column, template: JSON.stringify(source) }] as unknown as ErrorArgs<I>));
  }
}

type TemplateIds = IdsOf<'QLOG_ERR_TEMPLATE_SYNTAX'>;

export interface TemplateOptions {
  /** Environment for `${env:NAME}` (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** `${host}` of records without meta.host (default os.hostname(); plugins pass ctx.service.hostname). */
  hostname?: string;
}

type Getter = (rec: LogRecord) => string;

interface Placeholder {
  /** Normalised name: `tag`, `env:HOME`, `meta.path`, `body.a.b`, `path` ... */
  key: string;
  fallback: string | undefined;
}

type Part = string | Placeholder;

const NAME = /^[A-Za-z_@][\w@-]*(\.[\w@-]+)*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parse(src: string): Part[] {
  const parts: Part[] = [];
  let lit = '';
  let i = 0;
  while (i < src.length) {
    const d = src.indexOf('$', i);
    if (d < 0) {
      lit += src.slice(i);
      break;
    }
    lit += src.slice(i, d);
    if (src.startsWith('$${', d)) {
      lit += '${';
      i = d + 3;
      continue;
    }
    if (src[d + 1] !== '{') {
      lit += '$';
      i = d + 1;
      continue;
    }
    const close = src.indexOf('}', d + 2);
    if (close < 0) {
      throw new TemplateError('QLOG_ERR_TEMPLATE_SYNTAX/unclosed', src, d + 1);
    }
    const inner = src.slice(d + 2, close);
    const nested = inner.indexOf('${');
    if (nested >= 0) {
      throw new TemplateError('QLOG_ERR_TEMPLATE_SYNTAX/nested', src, d + 3 + nested);
    }
    if (lit) parts.push(lit);
    lit = '';
    parts.push(parsePlaceholder(inner, src, d + 1));
    i = close + 1;
  }
  if (lit) parts.push(lit);
  return parts;
}

function parsePlaceholder(inner: string, src: string, column: number): Placeholder {
  let expr = inner;
  let fallback: string | undefined;
  const fb = inner.indexOf(':-');
  if (fb >= 0) {
    expr = inner.slice(0, fb);
    fallback = inner.slice(fb + 2);
  }
  expr = expr.trim();
  if (!expr) throw new TemplateError('QLOG_ERR_TEMPLATE_SYNTAX/empty', src, column);
  if (expr.startsWith('env:')) {
    const name = expr.slice(4).trim();
    if (!ENV_NAME.test(name)) {
      throw new TemplateError('QLOG_ERR_TEMPLATE_SYNTAX/env-name', src, column, { name: JSON.stringify(name) });
    }
    return { key: `env:${name}`, fallback };
  }
  if (!NAME.test(expr)) {
    throw new TemplateError('QLOG_ERR_TEMPLATE_SYNTAX', src, column, { name: JSON.stringify(expr) });
  }
  return { key: expr, fallback };
}

/** Names referenced by a template, in order of first appearance: `tag`, `env:HOME`, `body.level` ... */
export function templateKeys(src: string): string[] {
  const keys: string[] = [];
  for (const p of parse(src)) if (typeof p !== 'string' && !keys.includes(p.key)) keys.push(p.key);
  return keys;
}

function str(v: unknown): string {
  const text = scalarText(v);
  if (text !== undefined) return text;
  if (typeof v !== 'object' || v === null) return '';
  try {
    return toJson(v);
  } catch {
    return '';
  }
}

function descend(v: unknown, path: readonly string[], from: number): unknown {
  for (let i = from; i < path.length && v !== undefined; i++) {
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[path[i]!] : undefined;
  }
  return v;
}

function bodyField(rec: LogRecord, name: string): unknown {
  const b = rec.body;
  return typeof b === 'object' ? b[name] : undefined;
}

function isoTime(rec: LogRecord): string {
  return isoTimeNs(rec.time);
}

function getter(key: string, host: string): Getter {
  if (key === 'tag') return (r) => r.tag;
  if (key === 'host') return (r) => (r.meta.host === undefined ? host : str(r.meta.host));
  if (key === 'time') return isoTime;
  if (key === 'body') return (r) => str(r.body);
  const path = key.split('.');
  const head = path[0]!;
  if (head === 'meta' && path.length > 1) {
    const name = path[1]!;
    return path.length === 2 ? (r) => str(r.meta[name]) : (r) => str(descend(r.meta[name], path, 2));
  }
  if (head === 'body' && path.length > 1) {
    const name = path[1]!;
    return path.length === 2 ? (r) => str(bodyField(r, name)) : (r) => str(descend(bodyField(r, name), path, 2));
  }
  // Unqualified name: metadata first (path, cid, host ...), then the body's field.
  if (path.length === 1) {
    return (r) => {
      const m = r.meta[head];
      return str(m === undefined ? bodyField(r, head) : m);
    };
  }
  return (r) => {
    const m = r.meta[head];
    return str(descend(m === undefined ? bodyField(r, head) : m, path, 1));
  };
}

function withFallback(g: Getter, fallback: string | undefined): Getter {
  if (fallback === undefined) return g;
  return (r) => {
    const v = g(r);
    return v === '' ? fallback : v;
  };
}

/**
 * Compile a template once; the result renders a record. Throws TemplateError on bad syntax.
 * `${env:NAME}` is resolved now (from `opts.env`, default process.env), not per record.
 */
export function compileTemplate(src: string, opts: TemplateOptions = {}): Template {
  const env = opts.env ?? process.env;
  const parsed = parse(src);
  const keys: string[] = [];
  const host = opts.hostname || hostname();
  // Merge env placeholders into the neighbouring literals: lits.length === getters.length + 1.
  const lits: string[] = [''];
  const getters: Getter[] = [];
  for (const p of parsed) {
    if (typeof p === 'string') {
      lits[lits.length - 1] += p;
      continue;
    }
    if (!keys.includes(p.key)) keys.push(p.key);
    if (p.key.startsWith('env:')) {
      const v = env[p.key.slice(4)] ?? '';
      lits[lits.length - 1] += v === '' && p.fallback !== undefined ? p.fallback : v;
      continue;
    }
    getters.push(withFallback(getter(p.key, host), p.fallback));
    lits.push('');
  }
  const render = build(lits, getters);
  return Object.assign(render, { source: src, keys: Object.freeze(keys), constant: getters.length === 0 });
}

function build(lits: readonly string[], gs: readonly Getter[]): (rec: LogRecord) => string {
  const l0 = lits[0]!;
  switch (gs.length) {
    case 0:
      return () => l0;
    case 1: {
      const g0 = gs[0]!;
      const l1 = lits[1]!;
      return (r) => l0 + g0(r) + l1;
    }
    case 2: {
      const [g0, g1] = gs as [Getter, Getter];
      const [, l1, l2] = lits as [string, string, string];
      return (r) => l0 + g0(r) + l1 + g1(r) + l2;
    }
    default:
      return (r) => {
        let s = l0;
        for (let i = 0; i < gs.length; i++) s += gs[i]!(r) + lits[i + 1]!;
        return s;
      };
  }
}
