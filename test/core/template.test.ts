import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { compileTemplate, templateKeys, TemplateError } from '../../core/template.js';
import type { LogRecord } from '../../core/record.js';

function rec(over: Partial<LogRecord> = {}): LogRecord {
  return { time: 1_700_000_000_123_456_789n, tag: 'app.service', body: 'hello', meta: {}, ...over };
}

test('literal text and tag', () => {
  assert.equal(compileTemplate('[${tag}] ')(rec()), '[app.service] ');
  const t = compileTemplate('plain text');
  assert.equal(t(rec()), 'plain text');
  assert.equal(t.constant, true);
  assert.equal(compileTemplate('')(rec()), '');
});

test('host: meta.host wins, else this machine', () => {
  const t = compileTemplate('${host}');
  assert.equal(t(rec()), hostname());
  assert.equal(t(rec({ meta: { host: 'enclave-7' } })), 'enclave-7');
  assert.equal(compileTemplate('${host}', { hostname: 'configured' })(rec()), 'configured');
  assert.equal(compileTemplate('${host}', { hostname: '' })(rec()), hostname());
});

test('path, cid and other metadata', () => {
  const t = compileTemplate('${path}|${cid}|${peer}|${custom}');
  assert.equal(t(rec({ meta: { path: '/var/log/a.log', cid: 16, peer: 'unix:/x#1', custom: true } })), '/var/log/a.log|16|unix:/x#1|true');
  assert.equal(t(rec()), '|||');
});

test('body fields: unqualified, body.x, nested, meta first', () => {
  const r = rec({ body: { log: 'x', level: 'warn', http: { status: 503 }, path: 'body-path' }, meta: { path: '/meta/path' } });
  assert.equal(compileTemplate('${level}')(r), 'warn');
  assert.equal(compileTemplate('${body.level}')(r), 'warn');
  assert.equal(compileTemplate('${body.http.status}')(r), '503');
  assert.equal(compileTemplate('${http.status}')(r), '503');
  assert.equal(compileTemplate('${path}')(r), '/meta/path');
  assert.equal(compileTemplate('${body.path}')(r), 'body-path');
  assert.equal(compileTemplate('${meta.path}')(r), '/meta/path');
  assert.equal(compileTemplate('${http}')(r), '{"status":503}');
  assert.equal(compileTemplate('${body.nope.deeper}')(r), '');
  // a string body has no fields
  assert.equal(compileTemplate('${level}')(rec()), '');
  assert.equal(compileTemplate('${body}')(rec()), 'hello');
});

test('time is ISO 8601 of the record time, with its nanoseconds', () => {
  assert.equal(compileTemplate('${time}')(rec()), '2023-11-14T22:13:20.123456789Z');
  assert.equal(compileTemplate('${time}')(rec({ time: 5n })), '1970-01-01T00:00:00.000000005Z');
});

test('integers beyond 2^53 keep their digits, alone or inside JSON', () => {
  const r = rec({ body: { id: 9007199254740993n, deep: { n: -9223372036854775808n } } });
  assert.equal(compileTemplate('${id}')(r), '9007199254740993');
  assert.equal(compileTemplate('${deep}')(r), '{"n":-9223372036854775808}');
});

test('env is read once at compile time', () => {
  const env = { STAGE: 'prod' };
  const t = compileTemplate('${env:STAGE}-${tag}', { env });
  env.STAGE = 'dev';
  assert.equal(t(rec()), 'prod-app.service');
  assert.equal(compileTemplate('${env:NOPE_NOT_SET}x', { env: {} })(rec()), 'x');
  assert.equal(compileTemplate('${env:STAGE}', { env: { STAGE: 'p' } }).constant, true);
});

test('fallback with :-', () => {
  assert.equal(compileTemplate('${path:-stdin}')(rec()), 'stdin');
  assert.equal(compileTemplate('${path:-stdin}')(rec({ meta: { path: '/a' } })), '/a');
  assert.equal(compileTemplate('${env:NOPE:-dflt}', { env: {} })(rec()), 'dflt');
});

test('$${ escapes a literal ${', () => {
  assert.equal(compileTemplate('$${tag} is ${tag}')(rec()), '${tag} is app.service');
  assert.equal(compileTemplate('cost: $5 $')(rec()), 'cost: $5 $');
  assert.deepEqual(templateKeys('$${tag}'), []);
});

test('unknown names render empty', () => {
  assert.equal(compileTemplate('<${nothing_here}>')(rec()), '<>');
});

test('many placeholders', () => {
  const t = compileTemplate('${tag} ${host} ${path} ${cid} ${env:X}!', { env: { X: 'x' } });
  assert.equal(t(rec({ meta: { host: 'h', path: 'p', cid: 3 } })), 'app.service h p 3 x!');
  const u = compileTemplate('${a}${b}${c}${d}');
  assert.equal(u(rec({ meta: { a: 1, b: 2, c: 3, d: 4 } })), '1234');
});

test('templateKeys lists referenced names once, in order', () => {
  assert.deepEqual(templateKeys('${host} ${path}: ${env:HOME} ${body.level} ${path}'), ['host', 'path', 'env:HOME', 'body.level']);
  assert.deepEqual(compileTemplate('${tag}${tag}').keys, ['tag']);
});

test('syntax errors are clear and positioned', () => {
  assert.throws(
    () => compileTemplate('[${tag] '),
    (e: unknown) => e instanceof TemplateError && e.column === 2 && /unclosed "\$\{"/.test(e.message) && /\$\$\{/.test(e.message),
  );
  assert.throws(() => compileTemplate('${}'), /empty placeholder/);
  assert.throws(() => compileTemplate('${a b}'), /invalid placeholder name "a b"/);
  assert.throws(() => compileTemplate('${env:1X}'), /invalid environment variable name/);
  assert.throws(() => compileTemplate('${a${b}}'), /do not nest/);
  assert.throws(() => templateKeys('x ${'), TemplateError);
  try {
    compileTemplate('ab${cd');
  } catch (e) {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.code, 'QLOG_ERR_TEMPLATE_SYNTAX');
    assert.equal(e.column, 3);
  }
});
