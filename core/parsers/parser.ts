/**
 * One parser (Fluent Bit's [PARSER]): a format, then time extraction (time_key, time_format,
 * time_keep) and type conversion (types). Compiled once: its regex and time format are checked
 * when the config is read (ParserDefinitionError names the option at fault).
 */
import { type Fields, type FormatParser, jsonFormat, logfmtFormat, ltsvFormat, regexFormat } from './parser-formats.js';
import { compileTimeFormat, TimeFormatError, type TimeParser } from './parser-time.js';

export const TYPE_NAMES = ['string', 'integer', 'float', 'bool', 'hex'] as const;
export type TypeName = (typeof TYPE_NAMES)[number];

export interface ParserDefinition {
  readonly name: string;
  readonly format: 'json' | 'regex' | 'logfmt' | 'ltsv';
  readonly regex?: string;
  readonly time_key?: string;
  readonly time_format?: string;
  readonly time_keep?: boolean;
  /** `{code: integer}` or Fluent Bit's `"code:integer size:integer"`. */
  readonly types?: string | Readonly<Record<string, string>>;
}

export interface Parsed {
  readonly fields: Fields;
  /** Event time from time_key, when the parser has one and the field held a time. */
  readonly time: bigint | undefined;
}

export interface Parser {
  readonly name: string;
  /** undefined: the text does not fit this parser (a parse error for the caller to count). */
  parse(text: string): Parsed | undefined;
}

export class ParserDefinitionError extends Error {
  constructor(
    /** The option at fault: regex, time_format, types. */
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

function parseTypes(types: ParserDefinition['types']): [string, TypeName][] {
  if (types === undefined) return [];
  const pairs: [string, string][] =
    typeof types === 'string'
      ? types
          .split(/\s+/)
          .filter(Boolean)
          .map((t) => {
            const c = t.lastIndexOf(':');
            return c > 0 ? [t.slice(0, c), t.slice(c + 1)] : [t, ''];
          })
      : Object.entries(types);
  return pairs.map(([k, t]) => {
    if (!(TYPE_NAMES as readonly string[]).includes(t))
      throw new ParserDefinitionError('types', `expected field:type with a type of ${TYPE_NAMES.join(', ')}, found "${k}:${t}"`);
    return [k, t as TypeName];
  });
}

function convert(v: unknown, t: TypeName): unknown {
  if (typeof v !== 'string') return v;
  switch (t) {
    case 'integer': {
      const n = Number.parseInt(v, 10);
      return Number.isNaN(n) ? v : n;
    }
    case 'float': {
      const n = Number.parseFloat(v);
      return Number.isNaN(n) ? v : n;
    }
    case 'hex': {
      const n = Number.parseInt(v, 16);
      return Number.isNaN(n) ? v : n;
    }
    case 'bool':
      return v === 'true' ? true : v === 'false' ? false : v;
    default:
      return v;
  }
}

/** Compile a regex as a parser uses it; throws ParserDefinitionError('regex') if it is invalid or has no named group. */
export function compileParserRegex(pattern: string): RegExp {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new ParserDefinitionError('regex', `invalid regex: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  if (!/\(\?<[A-Za-z_$][\w$]*>/.test(pattern)) throw new ParserDefinitionError('regex', 'expected a regex with named groups ((?<name>...)), found none');
  return re;
}

export function compileParser(def: ParserDefinition): Parser {
  let format: FormatParser;
  switch (def.format) {
    case 'regex':
      if (def.regex === undefined) throw new ParserDefinitionError('regex', 'format regex needs a "regex" with named groups');
      format = regexFormat(compileParserRegex(def.regex));
      break;
    case 'json':
      format = jsonFormat();
      break;
    case 'logfmt':
      format = logfmtFormat();
      break;
    default:
      format = ltsvFormat();
  }
  let time: TimeParser | undefined;
  if (def.time_format !== undefined) {
    try {
      time = compileTimeFormat(def.time_format);
    } catch (e) {
      if (e instanceof TimeFormatError) throw new ParserDefinitionError('time_format', e.message);
      throw e;
    }
  }
  const timeKey = def.time_key ?? 'time';
  const timeKeep = def.time_keep ?? false;
  const types = parseTypes(def.types);
  return {
    name: def.name,
    parse(text) {
      const fields = format(text);
      if (fields === undefined) return undefined;
      for (const [k, t] of types) if (k in fields) fields[k] = convert(fields[k], t);
      let ns: bigint | undefined;
      if (time !== undefined) {
        const v = fields[timeKey];
        // A time that does not fit time_format leaves the record's time and the field as they were (Fluent Bit warns the same way).
        if (typeof v === 'string') ns = time(v);
        else if (typeof v === 'number' && Number.isFinite(v)) ns = BigInt(Math.round(v * 1e9));
        if (ns !== undefined && !timeKeep) delete fields[timeKey];
      }
      return { fields, time: ns };
    },
  };
}
