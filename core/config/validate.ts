/**
 * ajv with qlog's keywords, and translation of ajv errors into located, actionable messages.
 * Each schema is compiled once (cached by object identity).
 *
 * The built-in schemas (service, parsers, multiline parsers, qlog's config, every built-in
 * plugin's entry) are compiled by `npm run build` (scripts/precompile-schemas.mjs, ajv's standalone
 * code) into dist/core/config/validators/<key>.cjs, <key> a hash of the schema's JSON: the same
 * code ajv would generate at run time, so the same defaults, coercions and errors. An agent
 * loads only the validators its config uses and never loads ajv itself; compiling took ~45 ms
 * of CPU of each agent's ~0.28 s start-up, and loading ajv ~20 ms more. A schema without a
 * validator (a third-party plugin's, or a source checkout that was not built) is compiled by ajv.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv, ErrorObject, Options, ValidateFunction } from 'ajv';
import { didYouMean, type ConfigIssue } from '../errors.js';
import { lazyModule } from '../lazy.js';
import type { OptionsSchema, PropertySchema } from '../plugin/schema.js';
import { describeFound, type ConfigSource, type KeyPath } from './source.js';
import { parseDuration, parseSize } from './units.js';

const UNIT_TEXT = {
  size: 'a size (e.g. 65536, 64KiB, 2MB)',
  duration: 'a duration (e.g. 15 for seconds, 500ms, 5s, 1m)',
} as const;

/** The `unit` keyword: converts a size or duration in place (`unit: size` -> bytes, `unit: duration` -> ms). */
export function unitKeyword(
  kind: 'size' | 'duration',
  data: unknown,
  _ps: unknown,
  cxt?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number },
): boolean {
  const v = kind === 'size' ? parseSize(data) : parseDuration(data);
  const self = unitKeyword as unknown as { errors: Partial<ErrorObject>[] | null };
  if (v === undefined) {
    self.errors = [{ keyword: 'unit', message: UNIT_TEXT[kind], params: { unit: kind } }];
    return false;
  }
  if (cxt) cxt.parentData[cxt.parentDataProperty] = v;
  return true;
}

const ajvModule = lazyModule<typeof import('ajv')>('ajv');

/** A new ajv with qlog's options and keywords; `code` is for the build (scripts/precompile-schemas.mjs). */
export function newAjv(code?: Options['code']): Ajv {
  const a = new (ajvModule().Ajv)({
    allErrors: true,
    verbose: true,
    useDefaults: true,
    coerceTypes: 'array',
    strict: true,
    strictTypes: false,
    strictRequired: false,
    ...(code ? { code } : {}),
  });
  a.addKeyword({ keyword: 'template', schemaType: 'boolean' });
  a.addKeyword({ keyword: 'unit', schemaType: 'string', modifying: true, errors: true, validate: unitKeyword });
  return a;
}

let shared: Ajv | undefined;
/** The ajv that compiles what has no precompiled validator (made on first use). */
export function ajv(): Ajv {
  return (shared ??= newAjv());
}

/** The file name key of a schema's precompiled validator: a hash of its JSON. */
export function schemaKey(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 32);
}

/** Where the build puts the precompiled validators (next to this module in dist). */
export const VALIDATORS_DIR = fileURLToPath(new URL('./validators/', import.meta.url));

const require = createRequire(import.meta.url);

function precompiled(schema: object): ValidateFunction | undefined {
  const file = `${VALIDATORS_DIR}${schemaKey(schema)}.cjs`;
  return existsSync(file) ? (require(file) as (unit: typeof unitKeyword) => ValidateFunction)(unitKeyword) : undefined;
}

let cache = new WeakMap<object, ValidateFunction>();
export function compile(schema: object): ValidateFunction {
  let v = cache.get(schema);
  if (!v) {
    v = precompiled(schema) ?? ajv().compile(schema);
    cache.set(schema, v);
  }
  return v;
}

/**
 * Forget the validators compiled or loaded so far (for an agent done validating its config): their
 * code and the precompiled modules' source (~110 KB of text for a tail + vsock-forward config,
 * and the bytecode compiled from it) are garbage from then on. A later validation (a reload on
 * SIGHUP, `qlog validate` in the same process) loads them again.
 */
export function releaseValidators(): void {
  cache = new WeakMap();
  for (const [file, m] of Object.entries(require.cache)) {
    if (!m || !file.startsWith(VALIDATORS_DIR)) continue;
    delete require.cache[file];
    // The module that required it (createRequire's) lists it among its children too.
    const siblings = m.parent?.children;
    const at = siblings?.indexOf(m) ?? -1;
    if (at >= 0) siblings!.splice(at, 1);
  }
}

function jsonPointerToPath(ptr: string): (string | number)[] {
  if (!ptr) return [];
  return ptr
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function typeText(t: unknown): string {
  const one = (x: string) =>
    ({ string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a map', null: 'nothing' })[x] ?? x;
  return Array.isArray(t) ? t.map(one).join(' or ') : one(String(t));
}

/** One anyOf/oneOf branch as an expectation: `a size (...)`, `"no_limits" or false`, `an integer >= 0`, `a non-empty list`. */
function branchText(b: PropertySchema): string {
  if (b.unit) return UNIT_TEXT[b.unit];
  if (b.enum) return b.enum.map((x) => JSON.stringify(x)).join(' or ');
  if (b.const !== undefined) return JSON.stringify(b.const);
  if (b.type === 'array' && b.minItems) return b.minItems === 1 ? 'a non-empty list' : `a list of at least ${b.minItems} items`;
  return typeText(b.type) + (b.minimum !== undefined ? ` >= ${b.minimum}` : '');
}

/** What a failed keyword asked for, as the "expected ..." of a message ("a number >= 1"). */
function expectation(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `a number ${String(p.comparison)} ${String(p.limit)}`;
    case 'pattern':
      return `a string matching ${String(p.pattern)}`;
    case 'minLength':
      return `a string of at least ${String(p.limit)} characters`;
    case 'maxLength':
      return `a string of at most ${String(p.limit)} characters`;
    case 'minItems':
      return `a list of at least ${String(p.limit)} items`;
    case 'maxItems':
      return `a list of at most ${String(p.limit)} items`;
    case 'const':
      return JSON.stringify(p.allowedValue);
    default:
      return `a valid value (${e.message ?? e.keyword})`;
  }
}

function getAt(data: unknown, path: KeyPath): unknown {
  let cur = data;
  for (const p of path) cur = cur == null ? undefined : (cur as Record<string | number, unknown>)[p];
  return cur;
}

/**
 * Validate `data` (mutated: defaults applied, units converted) against `schema`.
 * `base` is where data sits in the file; `original` is the data before defaults/units (for "found").
 */
export function validateAt(schema: OptionsSchema | PropertySchema, data: unknown, base: KeyPath, src: ConfigSource, original: unknown): ConfigIssue[] {
  const validate = compile(schema);
  if (validate(data)) return [];
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  const errors = validate.errors ?? [];
  // anyOf/oneOf produce one error per branch plus a summary; keep the summary only.
  const summarised = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && summarised.has(e.instancePath)) continue;
    const rel = jsonPointerToPath(e.instancePath);
    const path = [...base, ...rel];
    const found = getAt(original, rel);
    let issue: ConfigIssue;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String(e.params.additionalProperty);
        const props = Object.keys((e.parentSchema as OptionsSchema).properties ?? {});
        issue = src.issue('QLOG_ERR_CONFIG_UNKNOWN_KEY', [...path, key], { key, hint: didYouMean(key, props), allowed: props.join(', ') }, { key: true });
        break;
      }
      case 'required': {
        const key = String(e.params.missingProperty);
        const desc = (e.parentSchema as OptionsSchema).properties?.[key]?.description;
        issue = src.issue('QLOG_ERR_CONFIG_REQUIRED', path, { key, about: desc ? ` (${desc.replace(/\.$/, '')})` : '' });
        break;
      }
      case 'unit':
        issue = src.issue('QLOG_ERR_CONFIG_UNIT', path, { expected: String(e.message), found: describeFound(found) });
        break;
      case 'type':
        issue = src.issue('QLOG_ERR_CONFIG_TYPE', path, { expected: typeText(e.params.type), found: describeFound(found) });
        break;
      case 'enum':
        issue = src.issue('QLOG_ERR_CONFIG_ENUM', path, {
          allowed: (e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', '),
          found: describeFound(found),
          hint: typeof found === 'string' ? didYouMean(found, (e.params.allowedValues as unknown[]).map(String)) : '',
        });
        break;
      case 'anyOf':
      case 'oneOf': {
        const branches = ((e.schema as PropertySchema[]) ?? []).map(branchText);
        issue = src.issue('QLOG_ERR_CONFIG_TYPE', path, { expected: branches.join(', or '), found: describeFound(found) });
        break;
      }
      default:
        issue = src.issue('QLOG_ERR_CONFIG_VALUE', path, { expected: expectation(e), found: describeFound(found) });
    }
    const k = String(issue);
    if (!seen.has(k)) {
      seen.add(k);
      issues.push(issue);
    }
  }
  return issues;
}
