import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileParser, ParserDefinitionError } from '../../../core/parsers/parser.js';

test('json: an object; anything else is a parse failure', () => {
  const p = compileParser({ name: 'j', format: 'json' });
  assert.deepEqual(p.parse('{"level":"info","n":1}')?.fields, { level: 'info', n: 1 });
  assert.equal(p.parse('[1,2]'), undefined);
  assert.equal(p.parse('{"broken":'), undefined);
  assert.equal(p.parse('plain text'), undefined);
});

test('logfmt: bare keys, quoted values with escapes', () => {
  const p = compileParser({ name: 'l', format: 'logfmt' });
  assert.deepEqual(p.parse('level=info msg="hello \\"you\\"" dur=1.5ms ok')?.fields, { level: 'info', msg: 'hello "you"', dur: '1.5ms', ok: true });
  assert.equal(p.parse('msg="unterminated'), undefined);
  assert.equal(p.parse(''), undefined);
});

test('ltsv: label:value separated by tabs', () => {
  const p = compileParser({ name: 't', format: 'ltsv', types: 'status:integer' });
  assert.deepEqual(p.parse('host:127.0.0.1\ttime:[10/Oct/2000:13:55:36 -0700]\tstatus:200')?.fields, {
    host: '127.0.0.1',
    time: '[10/Oct/2000:13:55:36 -0700]',
    status: 200,
  });
  assert.equal(p.parse('no label here'), undefined);
});

test('regex: named groups, types (map or Fluent Bit string), time_key/time_format/time_keep', () => {
  const def = {
    name: 'r',
    format: 'regex',
    regex: '^(?<ts>\\S+) (?<lvl>\\w+) (?<n>\\d+) (?<h>[0-9a-f]+) (?<ok>true|false) (?<f>[\\d.]+)(?: (?<opt>\\S+))?$',
    time_key: 'ts',
    time_format: '%Y-%m-%dT%H:%M:%S%z',
  } as const;
  const p = compileParser({ ...def, types: { n: 'integer', h: 'hex', ok: 'bool', f: 'float' } });
  const r = p.parse('2024-01-02T03:04:05Z warn 42 ff true 0.5');
  assert.deepEqual(r?.fields, { lvl: 'warn', n: 42, h: 255, ok: true, f: 0.5 });
  assert.equal(r?.time, BigInt(Date.parse('2024-01-02T03:04:05Z')) * 1_000_000n);
  const kept = compileParser({ ...def, time_keep: true, types: 'n:integer' }).parse('2024-01-02T03:04:05Z warn 42 ff true 0.5');
  assert.deepEqual(kept?.fields, { ts: '2024-01-02T03:04:05Z', lvl: 'warn', n: 42, h: 'ff', ok: 'true', f: '0.5' });
  // A time that does not fit the format: the field stays, the record keeps its time.
  const odd = p.parse('yesterday warn 1 0 false 1');
  assert.equal(odd?.time, undefined);
  assert.equal(odd?.fields.ts, 'yesterday');
  assert.equal(p.parse('no match'), undefined);
});

test('a bad regex, a regex without named groups, a bad type or time_format name the option', () => {
  const key = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof ParserDefinitionError);
      return `${e.key}: ${e.message}`;
    }
    return 'no error';
  };
  assert.match(
    key(() => compileParser({ name: 'x', format: 'regex', regex: '^(?<a>[a-' })),
    /^regex: invalid regex/,
  );
  assert.match(
    key(() => compileParser({ name: 'x', format: 'regex', regex: '^(a)$' })),
    /^regex: expected a regex with named groups/,
  );
  assert.match(
    key(() => compileParser({ name: 'x', format: 'json', types: { a: 'number' } })),
    /^types: .*"a:number"/,
  );
  assert.match(
    key(() => compileParser({ name: 'x', format: 'json', time_format: '%Q' })),
    /^time_format: unknown/,
  );
});
