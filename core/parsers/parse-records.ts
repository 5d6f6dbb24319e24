/** Parsing records in place: what the parser filter and tail's `parser` option both do. */
import type { LogRecord } from '../record.js';
import type { Parser } from './parser.js';
import { parseFirst } from './registry.js';

export interface ParseOptions {
  /** Object records: the field parsed. Line records are parsed as a whole. */
  readonly key: string;
  /** Keep the record's other fields next to the parsed ones. */
  readonly reserve: boolean;
  /** Keep the parsed field itself. */
  readonly preserve: boolean;
}

export interface ParseCounts {
  /** Records no parser could read (left unchanged). */
  errors: number;
  /** Object records without a string `key` field (left unchanged). */
  skipped: number;
}

/** Replace each record's body by what the first fitting parser reads, and its time by the parsed time. */
export function parseRecords(parsers: readonly Parser[], records: readonly LogRecord[], o: ParseOptions): ParseCounts {
  const counts: ParseCounts = { errors: 0, skipped: 0 };
  for (const r of records) {
    const b = r.body;
    const text = typeof b === 'string' ? b : b[o.key];
    if (typeof text !== 'string') {
      counts.skipped++;
      continue;
    }
    const parsed = parseFirst(parsers, text);
    if (parsed === undefined) {
      counts.errors++;
      continue;
    }
    let body = parsed.fields;
    if (o.preserve && !(o.key in body)) body[o.key] = text;
    if (o.reserve && typeof b !== 'string') {
      const rest: Record<string, unknown> = {};
      for (const k in b) if (k !== o.key || o.preserve) rest[k] = b[k];
      body = Object.assign(rest, body);
    }
    r.body = body;
    if (parsed.time !== undefined) r.time = parsed.time;
  }
  return counts;
}
