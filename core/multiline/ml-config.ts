/**
 * The top-level `multiline_parsers:` section and the plugin options that name its parsers: each
 * entry is validated and its rules compiled once (a bad regex or an unknown next state is a
 * config issue at its file:line:column); every multiline parser an option names must exist.
 */
import type { ConfigIssue } from '../errors.js';
import { interpolate } from '../config/env.js';
import { type ConfigSource, describeFound, type KeyPath } from '../config/source.js';
import { validateAt } from '../config/validate.js';
import type { PropertySchema } from '../plugin/schema.js';
import { type CompiledMultiline, MultilineSet } from './ml-registry.js';
import { MultilineDefinitionError, type RuleDefinition, RuleMachine } from './ml-rules.js';
import { multilineSchema } from './ml-schema.js';

/** Plugin options that name a multiline parser. */
export const MULTILINE_OPTIONS = ['multiline', 'multiline_parser'] as const;

export function loadMultiline(raw: unknown, src: ConfigSource, issues: ConfigIssue[], env: NodeJS.ProcessEnv): MultilineSet {
  if (raw === undefined || raw === null) return new MultilineSet();
  if (!Array.isArray(raw)) {
    issues.push(
      src.issue('QLOG_ERR_CONFIG_TYPE', ['multiline_parsers'], { expected: 'a list of multiline parsers (each "- name: ...")', found: describeFound(raw) }),
    );
    return new MultilineSet();
  }
  const compiled: CompiledMultiline[] = [];
  const seen = new Set<string>();
  raw.forEach((entry: unknown, i: number) => {
    const path: KeyPath = ['multiline_parsers', i];
    // Rules keep their `${`: a regex is not a place for environment variables.
    const value = interpolate(entry, path, src, issues, (p) => p.length >= 3 && p[2] === 'rules', env);
    const data = structuredClone(value);
    const found = validateAt(multilineSchema, data, path, src, value);
    if (found.length) {
      issues.push(...found);
      return;
    }
    const def = data as { name: string; rules: RuleDefinition[]; flush_timeout: number; key_content: string };
    if (seen.has(def.name)) {
      issues.push(
        src.issue('QLOG_ERR_CONFIG_VALUE/check', [...path, 'name'], { reason: `two multiline parsers are named "${def.name}"; names must be unique` }),
      );
      return;
    }
    seen.add(def.name);
    try {
      compiled.push({ name: def.name, rules: new RuleMachine(def.rules), flushMs: def.flush_timeout, key: def.key_content });
    } catch (e) {
      if (!(e instanceof MultilineDefinitionError)) throw e;
      // An object rule names its fields: point at them rather than at list positions.
      const at = [...e.at];
      const rule = typeof at[1] === 'number' ? def.rules[at[1]] : undefined;
      if (rule && !Array.isArray(rule) && typeof at[2] === 'number') at[2] = ['state', 'regex', 'next_state'][at[2]]!;
      issues.push(src.issue('QLOG_ERR_CONFIG_VALUE/check', [...path, ...at], { reason: e.message }));
    }
  });
  return new MultilineSet(compiled);
}

/** A plugin option `multiline` / `multiline_parser` must name a multiline parser that exists. */
export function checkMultilineRefs(
  props: Record<string, PropertySchema>,
  options: Record<string, unknown>,
  set: MultilineSet,
  path: KeyPath,
  src: ConfigSource,
  issues: ConfigIssue[],
): void {
  for (const key of MULTILINE_OPTIONS) {
    if (!(key in props)) continue;
    const name = options[key];
    if (typeof name !== 'string' || !name || set.has(name)) continue;
    issues.push(
      src.issue('QLOG_ERR_CONFIG_VALUE/check', [...path, key], { reason: `unknown multiline parser "${name}"; available: ${set.names().join(', ')}` }),
    );
  }
}
