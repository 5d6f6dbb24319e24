// The top-level multiline_parsers: section and the options naming its parsers, as the loader reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFrom as load, configIssues as messages } from '../../helpers/engine.js';

test('a user parser is compiled (rules as lists or maps, slashes optional) and replaces nothing else', async () => {
  const c = await load(`multiline_parsers:
  - name: app
    flush_timeout: 500ms
    rules:
      - ['start_state', '/^\\d{4}-/', 'cont']
      - { state: cont, regex: '^\\s+at ', next_state: cont }
pipeline:
  inputs:
    - name: tail
      path: /x.log
      multiline: app
`);
  assert.deepEqual(c.multiline.names(), ['app', 'cri', 'docker', 'go', 'java', 'python']);
  const m = c.multiline.machine('app');
  assert.equal(m.flushMs, 500);
  assert.equal(m.step('', '2024-01-01 boom', { time: 0n, tag: '', body: '', meta: {} }).to, 'cont');
  assert.equal(m.step('cont', '  at x', { time: 0n, tag: '', body: '', meta: {} }).kind, 2);
});

test('a bad regex, an unknown next state, no start rule and an unknown parser name are located', async () => {
  assert.deepEqual(
    await messages(`multiline_parsers:
  - name: a
    rules:
      - ['start_state', '/^(?<x>[a-z/', 'cont']
  - name: b
    rules:
      - ['start_state', '^x', 'cont']
      - { state: cont, regex: '^y', next_state: nowhere }
  - name: c
    rules:
      - ['cont', '^x', 'cont']
pipeline:
  inputs:
    - name: tail
      path: /x.log
      multiline: jaav
`),
    [
      '4:25 multiline_parsers[0].rules[0][1]: invalid regex: /^(?<x>[a-z/: Unterminated character class',
      '8:49 multiline_parsers[1].rules[1].next_state: next state "nowhere" has no rules; known states: start_state, cont',
      '11:7 multiline_parsers[2].rules: expected a rule of state "start_state" (the first line of a record), found none',
      '16:18 pipeline.inputs[0].multiline: unknown multiline parser "jaav"; available: cri, docker, go, java, python',
    ],
  );
});
