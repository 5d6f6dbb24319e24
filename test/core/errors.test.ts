// Every message in core/errors/messages.ts is documented in docs/errors.md: a "## CODE" section
// per code with a `Message: ...` line for each message of that code, and the doc names no code
// that does not exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, ConfigIssue, ERRORS, QlogError, UsageError, codeOf, createError, formatError, placeholders, type MessageId } from '../../core/errors.js';

const DOC_PATH = new URL('../../docs/errors.md', import.meta.url);
const doc = readFileSync(DOC_PATH, 'utf8');
const ids = Object.keys(ERRORS) as MessageId[];
const codes = [...new Set(ids.map(codeOf))];

/** The text of the `## CODE` section (up to the next heading). */
function section(code: string): string | undefined {
  const m = new RegExp(`^## ${code}\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, 'm').exec(doc);
  return m?.[1];
}

test('every error code has a section in docs/errors.md with each of its exact messages', () => {
  const missing = codes.filter((c) => section(c) === undefined);
  assert.deepEqual(missing, [], `add a "## CODE" section to docs/errors.md for: ${missing.join(', ')}`);
  for (const id of ids) {
    const code = codeOf(id);
    assert.ok(section(code)!.includes(`Message: \`${ERRORS[id]}\``), `docs/errors.md ## ${code}: add the line: Message: \`${ERRORS[id]}\``);
  }
  for (const code of codes) {
    const body = section(code)!;
    const documented = [...body.matchAll(/^Message: `(.*)`$/gm)].map((m) => m[1]);
    const stale = documented.filter((text) => !ids.some((id) => codeOf(id) === code && ERRORS[id] === text));
    assert.deepEqual(stale, [], `docs/errors.md ## ${code}: messages the table does not have`);
    const prose = body.replace(/^Message: .*$/gm, '').trim();
    assert.ok(prose.length > 80, `docs/errors.md ## ${code}: explain what it means and how to fix it`);
    assert.match(prose, /Fix:/, `docs/errors.md ## ${code}: say how to fix it ("Fix: ...")`);
  }
});

test('docs/errors.md names only codes that exist, each section once', () => {
  const known = new Set<string>(codes);
  // A name ending in `_*` (QLOG_ERR_CONFIG_*) stands for a family: some code must start with it.
  const named = [...new Set(doc.match(/\b[A-Z]+_ERR_[A-Z0-9_]+\b\*?/g) ?? [])];
  const unknown = named.filter((c) => (c.endsWith('_*') ? !codes.some((k) => k.startsWith(c.slice(0, -1))) : !known.has(c)));
  assert.deepEqual(unknown, [], `docs/errors.md names codes that core/errors/messages.ts does not define: ${unknown.join(', ')}`);
  const headings = doc.match(/^## .*$/gm) ?? [];
  assert.equal(new Set(headings).size, headings.length, 'no duplicate sections');
  for (const h of headings) assert.ok(known.has(h.slice(3)), `heading "${h}" is not an error code`);
});

test('ids follow QLOG_ERR_AREA_WHAT[/variant]; messages fill their placeholders', () => {
  for (const id of ids) {
    assert.match(id, /^QLOG_ERR_[A-Z]+(_[A-Z0-9]+)*(\/[a-z0-9-]+)?$/, id);
    const params = Object.fromEntries(placeholders(id).map((n) => [n, `<${n}>`]));
    const text = formatError(id, params as never);
    assert.doesNotMatch(text.replace(/\$\{[^}]*\}/g, ''), /\{\w+\}/, `${id}: every placeholder filled`);
    const e = new QlogError(id, params as never);
    assert.equal(e.code, codeOf(id));
    assert.equal(e.message, text);
    assert.ok(e instanceof Error);
  }
});

test('${...} in a message is literal text, {name} a placeholder', () => {
  assert.deepEqual(placeholders('QLOG_ERR_TEMPLATE_SYNTAX/empty'), ['column', 'template']);
  assert.equal(
    formatError('QLOG_ERR_TEMPLATE_SYNTAX/empty', { column: 3, template: '"a${}"' }),
    'empty placeholder "${}" (expected a name such as ${tag}) at column 3 of template "a${}"',
  );
  assert.equal(formatError('QLOG_ERR_CONFIG_ENV', { name: 'HOME' }), 'environment variable HOME is not set (write ${HOME:-default} to give a default)');
});

test('variants share their code; subclasses keep code, name and message', () => {
  const e = createError('QLOG_ERR_TRANSPORT_REFUSED/no-socket', { uri: 'unix:///x' });
  assert.equal(e.code, 'QLOG_ERR_TRANSPORT_REFUSED');
  assert.equal(e.message, 'connection to unix:///x failed: the socket file does not exist (is the peer running?)');
  const u = new UsageError('QLOG_ERR_USAGE/one-config', {}, 'Usage: qlog run <file>');
  assert.ok(u instanceof QlogError);
  assert.equal(u.code, 'QLOG_ERR_USAGE');
  assert.equal(u.name, 'UsageError');
  assert.equal(u.message, 'expected one config file\n\nUsage: qlog run <file>');
  const c = new ConfigError([
    new ConfigIssue('QLOG_ERR_CONFIG_REQUIRED', 'missing', 'a.yaml', 2, 3, 'service'),
    new ConfigIssue('QLOG_ERR_CONFIG_TYPE', 'bad', 'a.yaml', 0, 0, ''),
  ]);
  assert.ok(c instanceof QlogError);
  assert.equal(c.code, 'QLOG_ERR_CONFIG');
  assert.equal(c.message, 'a.yaml:2:3: service: missing\na.yaml: bad');
});
