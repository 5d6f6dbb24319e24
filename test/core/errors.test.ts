// Every code in core/errors.ts ERRORS is documented in docs/errors.md (a "## CODE" section with
// its exact message template), and the doc names no code that does not exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, ERRORS, QlogError, formatError, type ErrorCode } from '../../core/errors.js';

const DOC_PATH = new URL('../../docs/errors.md', import.meta.url);
const doc = readFileSync(DOC_PATH, 'utf8');
/** Codes that are not in ERRORS but are real: the umbrella code of a rejected config file. */
const EXTRA = [new ConfigError([]).code];
const codes = Object.keys(ERRORS) as ErrorCode[];

/** The text of the `## CODE` section (up to the next heading). */
function section(code: string): string | undefined {
  const m = new RegExp(`^## ${code}\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, 'm').exec(doc);
  return m?.[1];
}

test('every error code has a section in docs/errors.md with its exact message', () => {
  const missing = codes.filter((c) => section(c) === undefined);
  assert.deepEqual(missing, [], `add a "## CODE" section to docs/errors.md for: ${missing.join(', ')}`);
  for (const code of codes) {
    const body = section(code)!;
    assert.ok(body.includes(`Message: \`${ERRORS[code]}\``), `docs/errors.md ## ${code}: the message line must be exactly: Message: \`${ERRORS[code]}\``);
    const prose = body.replace(/^Message: .*$/m, '').trim();
    assert.ok(prose.length > 80, `docs/errors.md ## ${code}: explain what it means and how to fix it`);
    assert.match(prose, /Fix:/, `docs/errors.md ## ${code}: say how to fix it ("Fix: ...")`);
  }
});

test('docs/errors.md names only codes that exist, each section once', () => {
  const known = new Set<string>([...codes, ...EXTRA]);
  // A name ending in `_*` (QLOG_ERR_CONFIG_*) stands for a family: some code must start with it.
  const named = [...new Set(doc.match(/\b[A-Z]+_ERR_[A-Z0-9_]+\b\*?/g) ?? [])];
  const unknown = named.filter((c) => (c.endsWith('_*') ? !codes.some((k) => k.startsWith(c.slice(0, -1))) : !known.has(c)));
  assert.deepEqual(unknown, [], `docs/errors.md names codes that core/errors.ts does not define: ${unknown.join(', ')}`);
  const headings = doc.match(/^## .*$/gm) ?? [];
  assert.equal(new Set(headings).size, headings.length, 'no duplicate sections');
  for (const h of headings) assert.ok(known.has(h.slice(3)), `heading "${h}" is not an error code`);
});

test('codes follow QLOG_ERR_AREA_WHAT; messages fill their placeholders', () => {
  for (const code of codes) {
    assert.match(code, /^QLOG_ERR_[A-Z]+(_[A-Z0-9]+)*$/, code);
    const names = [...ERRORS[code].matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const params = Object.fromEntries(names.map((n) => [n, `<${n}>`]));
    const text = formatError(code, params);
    assert.doesNotMatch(text, /\{\w+\}/, `${code}: every placeholder filled`);
    const e = new QlogError(code, params);
    assert.equal(e.code, code);
    assert.equal(e.message, text);
  }
});
