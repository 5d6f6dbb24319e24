/** `${VAR}` and `${VAR:-default}` interpolation on parsed values (never on raw text, so positions stay right). */
import type { ConfigIssue } from '../errors.js';
import type { ConfigSource, KeyPath } from './source.js';

const ENV_RE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replace env references in every string under `value`, except at keys for which
 * `skip(path)` is true (template options keep `${...}` for run time).
 */
export function interpolate(
  value: unknown,
  path: KeyPath,
  src: ConfigSource,
  issues: ConfigIssue[],
  skip: (path: KeyPath) => boolean,
  env: NodeJS.ProcessEnv = process.env,
): unknown {
  if (skip(path)) return value;
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(ENV_RE, (m, name: string | undefined, def: string | undefined) => {
      if (m === '$${') return '${';
      const v = env[name!];
      // Shell semantics: ${VAR:-default} also replaces an empty value; ${VAR} of an empty variable is ''.
      if (v !== undefined && (v !== '' || def === undefined)) return v;
      if (def !== undefined) return def;
      issues.push(src.issue('QLOG_ERR_CONFIG_ENV', path, { name: name! }));
      return m;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], src, issues, skip, env));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, [...path, k], src, issues, skip, env);
    return out;
  }
  return value;
}
