/** A parsed YAML config file that can locate any key path (file:line:column). */
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isPair, isScalar, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, ConfigIssue, QlogError, formatError, type ErrorArgs, type IdsOf, type ParamsOf } from '../errors.js';

export type KeyPath = readonly (string | number)[];

export function formatPath(path: KeyPath): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

export class ConfigSource {
  readonly data: unknown;
  private constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {
    this.data = doc.toJS({ maxAliasCount: 100 });
  }

  /** Parse a file; YAML syntax errors throw a ConfigError with positions. */
  static read(file: string, displayName = file): ConfigSource {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new QlogError('QLOG_ERR_CONFIG_READ', { file: displayName, reason: (e as Error).message });
    }
    return ConfigSource.parse(text, displayName);
  }

  static parse(text: string, displayName: string): ConfigSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length) {
      throw new ConfigError(
        doc.errors.map((e) => {
          const pos = e.linePos?.[0] ?? { line: 0, col: 0 };
          const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
          return new ConfigIssue('QLOG_ERR_CONFIG_YAML', formatError('QLOG_ERR_CONFIG_YAML', { reason: msg }), displayName, pos.line, pos.col, '');
        }),
      );
    }
    return new ConfigSource(displayName, doc, lines);
  }

  /** Position of the value at `path` (or of the key itself with `key: true`), falling back to the nearest parent. */
  position(path: KeyPath, opts: { key?: boolean } = {}): { line: number; col: number } {
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n);
      let offset: number | undefined;
      if (opts.key && n === path.length && n > 0) {
        const parent = this.doc.getIn(sub.slice(0, -1), true) as Node | undefined;
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === sub[sub.length - 1]);
          const k = pair?.key as Node | undefined;
          offset = k?.range?.[0];
        }
      }
      if (offset === undefined) {
        const node = (n === 0 ? this.doc.contents : this.doc.getIn(sub, true)) as Node | null | undefined;
        offset = node?.range?.[0];
      }
      if (offset !== undefined) {
        const p = this.lines.linePos(offset);
        return { line: p.line, col: p.col };
      }
    }
    return { line: 1, col: 1 };
  }

  /** The issue `id` (a QLOG_ERR_CONFIG_* message) located at `path`. */
  issue<I extends IdsOf<'QLOG_ERR_CONFIG_'>>(id: I, path: KeyPath, params: ParamsOf<I>, opts: { key?: boolean } = {}): ConfigIssue {
    return this.issueOf(new QlogError(id, ...([params] as ErrorArgs<I>)), path, opts);
  }

  /** An error raised while reading the config (e.g. loading a plugin) located at `path`. */
  issueOf(err: QlogError, path: KeyPath, opts: { key?: boolean } = {}): ConfigIssue {
    const { line, col } = this.position(path, opts);
    return new ConfigIssue(err.code, err.message, this.file, line, col, formatPath(path));
  }
}

/** `"abc"`, `42`, `a list`, `a map` — how a found value is described in messages. */
export function describeFound(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return v.length ? 'a list' : 'an empty list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return String(v);
}
