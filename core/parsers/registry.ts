/**
 * The parsers a config can use by name: the built-ins plus the top-level `parsers:` list, each
 * compiled once when the config is read.
 */
import { BUILTIN_PARSERS } from './parser-builtins.js';
import { compileParser, type Parser } from './parser.js';

export class ParserSet {
  private readonly byName = new Map<string, Parser>();

  /** Built-ins (compiled on first use) overlaid with `parsers` (compiled from the config). */
  constructor(parsers: readonly Parser[] = []) {
    for (const p of parsers) this.byName.set(p.name, p);
  }

  has(name: string): boolean {
    return this.byName.has(name) || BUILTIN_PARSERS.some((d) => d.name === name);
  }

  get(name: string): Parser | undefined {
    let p = this.byName.get(name);
    if (p === undefined) {
      const def = BUILTIN_PARSERS.find((d) => d.name === name);
      if (def) this.byName.set(name, (p = compileParser(def)));
    }
    return p;
  }

  names(): string[] {
    return [...new Set([...BUILTIN_PARSERS.map((d) => d.name), ...this.byName.keys()])].sort();
  }

  /** The parsers `names` list (one name or several), in order; throws for an unknown name. */
  resolve(names: string | readonly string[]): Parser[] {
    return (typeof names === 'string' ? [names] : names).map((n) => {
      const p = this.get(n);
      if (!p) throw new Error(`unknown parser "${n}"; available: ${this.names().join(', ')}`);
      return p;
    });
  }
}

/** The first parser that reads `text`, or undefined (a parse error). */
export function parseFirst(parsers: readonly Parser[], text: string): ReturnType<Parser['parse']> {
  for (let i = 0; i < parsers.length; i++) {
    const r = parsers[i]!.parse(text);
    if (r !== undefined) return r;
  }
  return undefined;
}
