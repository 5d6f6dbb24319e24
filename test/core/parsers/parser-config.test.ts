// The top-level parsers: section as the config loader reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFrom as load, configIssues as messages } from '../../helpers/engine.js';

test('parsers are compiled into the config; a config parser replaces a built-in; ${ in a regex stays', async () => {
  const c = await load(`parsers:
  - name: nginx
    format: ltsv
  - name: dollar
    format: regex
    regex: '^(?<a>[\${]+)$'
pipeline: {}
`);
  assert.deepEqual(c.parsers.get('nginx')?.parse('a:1')?.fields, { a: '1' });
  assert.deepEqual(c.parsers.get('dollar')?.parse('${')?.fields, { a: '${' });
  assert.ok(c.parsers.get('cri'));
});

test('unknown keys, missing format, bad types, duplicate names and a non-list are located', async () => {
  assert.deepEqual(
    await messages(`parsers:
  - name: a
    format: json
  - name: b
    time_fromat: '%s'
  - name: a
    format: logfmt
  - name: c
    format: json
    types: { n: number }
`),
    [
      '4:5 parsers[1]: missing required option "format" (How the text is read); add "format: ..." here',
      '5:5 parsers[1].time_fromat: unknown key "time_fromat" (did you mean "time_format"?); allowed keys: name, format, regex, time_key, time_format, time_keep, types',
      '6:11 parsers[2].name: two parsers are named "a"; names must be unique',
      '10:12 parsers[3].types: expected field:type with a type of string, integer, float, bool, hex, found "n:number"',
    ],
  );
  assert.deepEqual(await messages('parsers: { name: a }\n'), ['1:10 parsers: expected a list of parsers (each "- name: ..."), found a map']);
});
