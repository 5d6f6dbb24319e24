// Tag matching (Fluent Bit semantics): the pattern covers the whole tag, `*` matches any run of
// characters including dots (and none), everything else is literal; a list matches any pattern.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileMatch } from '../../core/match.js';

function check(pattern: string | string[], yes: string[], no: string[]): void {
  const m = compileMatch(pattern);
  for (const tag of yes) assert.equal(m(tag), true, `${JSON.stringify(pattern)} should match "${tag}"`);
  for (const tag of no) assert.equal(m(tag), false, `${JSON.stringify(pattern)} should not match "${tag}"`);
}

test('* matches every tag', () => {
  check('*', ['', 'a', 'app.web.access', '*'], []);
  check('**', ['', 'a.b'], []);
});

test('a literal pattern matches the whole tag only (case-sensitive)', () => {
  check('app', ['app'], ['app.x', 'xapp', 'ap', 'App', '']);
  check('app.web', ['app.web'], ['app.webx', 'app.web.x', 'appxweb']);
});

test('* spans dots', () => {
  check('app.*', ['app.web', 'app.web.access', 'app.'], ['app', 'xapp.web', 'ap.web']);
  check('*.log', ['a.log', 'a.b.c.log', '.log'], ['a.log.1', 'log', 'alog']);
  check('app.*.access', ['app.web.access', 'app.x.y.access', 'app..access'], ['app.access', 'app.web.access.1', 'app.web.error']);
});

test('several stars, and pieces that must not overlap', () => {
  check('a*b*c', ['abc', 'aXbYc', 'a.b.c', 'abbc', 'abcbc'], ['acb', 'ab', 'bc', 'abcx']);
  check('ab*ba', ['abba', 'abXba', 'ababa'], ['aba', 'ab', 'ba']);
  check('*ab*', ['ab', 'xaby', 'xxab'], ['a', 'b', 'ba']);
  check('a*b*b', ['abb', 'aXbYb'], ['ab', 'abc']);
  check('a**b', ['ab', 'a.b'], ['a', 'ba']);
});

test('regex-like characters are literal', () => {
  check('a.b', ['a.b'], ['axb']);
  check('a?', ['a?'], ['ab']);
  check('[ab]', ['[ab]'], ['a']);
  check('a+', ['a+'], ['aa']);
  check('(x)*', ['(x)', '(x).y'], ['x.y']);
});

test('a list matches any of its patterns', () => {
  check(['app.*', 'sys.kernel'], ['app.web', 'sys.kernel'], ['sys.kernel.x', 'sys', 'other']);
  check(['nothing'], ['nothing'], ['something']);
  check(['x', '*'], ['anything'], []);
});
