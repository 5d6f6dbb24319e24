/**
 * The top-level `parsers:` section of a config and the `parser` options that name its parsers:
 * each entry is validated, compiled once (a bad regex or time_format is a config issue at its
 * file:line:column), and every parser a plugin option names must exist.
 */
import type { ConfigIssue } from '../errors.js';
import { interpolate } from '../config/env.js';
import { type ConfigSource, describeFound, type KeyPath } from '../config/source.js';
import { validateAt } from '../config/validate.js';
import type { PropertySchema } from '../plugin/schema.js';
import { compileParser, type Parser, type ParserDefinition, ParserDefinitionError } from './parser.js';
import { parserSchema } from './parser-schema.js';
import { ParserSet } from './registry.js';

export function loadParsers(raw: unknown, src: ConfigSource, issues: ConfigIssue[], env: NodeJS.ProcessEnv): ParserSet {
  if (raw === undefined || raw === null) return new ParserSet();
  if (!Array.isArray(raw)) {
    issues.push(src.issue('QLOG_ERR_CONFIG_TYPE', ['parsers'], { expected: 'a list of parsers (each "- name: ...")', found: describeFound(raw) }));
    return new ParserSet();
  }
  const compiled: Parser[] = [];
  const seen = new Set<string>();
  raw.forEach((entry: unknown, i: number) => {
    const path: KeyPath = ['parsers', i];
    // A regex keeps its `${`: it is not a place for environment variables.
    const value = interpolate(entry, path, src, issues, (p) => p.length === 3 && p[2] === 'regex', env);
    const data = structuredClone(value);
    const found = validateAt(parserSchema, data, path, src, value);
    if (found.length) {
      issues.push(...found);
      return;
    }
    const def = data as ParserDefinition;
    if (seen.has(def.name)) {
      issues.push(src.issue('QLOG_ERR_CONFIG_VALUE/check', [...path, 'name'], { reason: `two parsers are named "${def.name}"; names must be unique` }));
      return;
    }
    seen.add(def.name);
    try {
      compiled.push(compileParser(def));
    } catch (e) {
      if (!(e instanceof ParserDefinitionError)) throw e;
      issues.push(src.issue('QLOG_ERR_CONFIG_VALUE/check', [...path, e.key], { reason: e.message }));
    }
  });
  return new ParserSet(compiled);
}

/** A plugin option named `parser` (one name or a list) must name parsers that exist. */
export function checkParserRefs(
  props: Record<string, PropertySchema>,
  options: Record<string, unknown>,
  parsers: ParserSet,
  path: KeyPath,
  src: ConfigSource,
  issues: ConfigIssue[],
): void {
  if (!('parser' in props)) return;
  const v = options.parser;
  const list = typeof v === 'string' ? (v ? [v] : []) : Array.isArray(v) ? v : [];
  list.forEach((name: unknown, i: number) => {
    if (typeof name !== 'string' || parsers.has(name)) return;
    const at = typeof v === 'string' ? [...path, 'parser'] : [...path, 'parser', i];
    issues.push(src.issue('QLOG_ERR_CONFIG_VALUE/check', at, { reason: `unknown parser "${name}"; available: ${parsers.names().join(', ')}` }));
  });
}
