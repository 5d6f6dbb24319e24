// The detectors on their own: what is masked, what is left alone, and no slow paths.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hits, Masker, RULE_NAMES, schema } from '../src/index.js';

const all = { rules: RULE_NAMES, patterns: [], keys: [], mask: '[REDACTED]', show_last: 0 };
const masker = new Masker(all);
const line = (s: string) => masker.line(s, new Hits());

const masked: [string, string, string][] = [
  ['bearer_token', 'GET /api Authorization: Bearer 0123456789abcdefXYZ', 'GET /api Authorization: Bearer [REDACTED]'],
  ['jwt', 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl', 'Authorization: Bearer [REDACTED]'],
  ['basic_auth', 'curl -H "Authorization: Basic dXNlcjpwYXNz" https://x', 'curl -H "Authorization: Basic [REDACTED]" https://x'],
  ['aws_access_key_id', 'using key AKIAIOSFODNN7EXAMPLE for s3', 'using key [REDACTED] for s3'],
  ['aws_secret_access_key', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key = [REDACTED]'],
  ['url_password', 'connecting to postgres://app:s3cr3t@db:5432/app', 'connecting to postgres://app:[REDACTED]@db:5432/app'],
  ['github_token', 'push with ghp_abcdefghijklmnopqrstuvwxyz0123456789 ok', 'push with [REDACTED] ok'],
  ['slack_token', 'slack xoxb-123456789012-abcdefghij', 'slack [REDACTED]'],
  ['key_value', 'login ok user=bob password=hunter2 ip=10.0.0.1', 'login ok user=bob password=[REDACTED] ip=10.0.0.1'],
  ['key_value', '{"user":"bob","api_key":"abcd1234efgh"}', '{"user":"bob","api_key":"[REDACTED]"}'],
  ['key_value', 'DB_PASSWORD: "p@ss w0rd" host=db', 'DB_PASSWORD: "[REDACTED]" host=db'],
  ['key_value', 'config client_secret=abc; db.token=xyz', 'config client_secret=[REDACTED]; db.token=[REDACTED]'],
  ['private_key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----'],
  ['private_key', 'key: -----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkq', 'key: -----BEGIN PRIVATE KEY-----[REDACTED]'],
];

for (const [rule, input, expected] of masked) {
  test(`${rule}: ${input.split('\n')[0]}`, () => {
    const hits = new Hits();
    assert.equal(masker.line(input, hits), expected);
    assert.ok(hits.byRule.has(rule), `expected rule ${rule}, got ${[...hits.byRule.keys()]}`);
  });
}

const untouched = [
  'GET /index.html 200 1234 bytes',
  'user bob logged in from 10.0.0.1',
  'Basic authentication required for /admin',
  'token expired, please log in again',
  'tokens_used=42 password_hint=blue',
  'time=12:30:05 level=info msg="password changed"',
  'see https://example.com/path?q=1&page=2',
  'the bearer of bad news',
  'password=""',
];
for (const input of untouched) {
  test(`left alone: ${input}`, () => assert.equal(line(input), input));
}

test('the schema lists exactly the built-in rules', () => {
  assert.deepEqual(schema.properties.rules.items.enum, RULE_NAMES);
  assert.deepEqual(schema.properties.rules.default, RULE_NAMES);
});

test('masking twice changes nothing more', () => {
  const once = line('password=hunter2 AKIAIOSFODNN7EXAMPLE');
  const hits = new Hits();
  assert.equal(masker.line(once, hits), once);
  assert.equal(hits.total, 0);
});

test('object bodies: fields named in keys are masked whole, other strings are scanned, the input is not modified', () => {
  const m = new Masker({ ...all, keys: ['password', 'authorization'] });
  const body = { user: 'bob', Password: 12345, req: { headers: { Authorization: 'Bearer abc' }, url: 'https://u:pw@h/x' }, tags: ['a', 'token=t0k3n'] };
  const copy = structuredClone(body);
  const hits = new Hits();
  const out = m.object(body, hits);
  assert.deepEqual(out, { user: 'bob', Password: '[REDACTED]', req: { headers: { Authorization: '[REDACTED]' }, url: 'https://u:[REDACTED]@h/x' }, tags: ['a', 'token=[REDACTED]'] });
  assert.deepEqual(body, copy);
  assert.equal(hits.total, 4);
  const clean = { a: 'nothing here' };
  assert.equal(m.object(clean, new Hits()), clean);
});

test('mask template and show_last', () => {
  const m = new Masker({ ...all, mask: '<${rule}>', show_last: 4 });
  assert.equal(m.line('password=abcdefghijklmnop and password=short', new Hits()), 'password=<key_value>mnop and password=<key_value>');
});

test('extra patterns: whole match, or group 1 only; /re/flags syntax', () => {
  const m = new Masker({ ...all, rules: [], patterns: ['\\b\\d{3}-\\d{2}-\\d{4}\\b', '/card=(\\d+)/i'] });
  const hits = new Hits();
  assert.equal(m.line('ssn 123-45-6789 CARD=4111111111111111 end', hits), 'ssn [REDACTED] CARD=[REDACTED] end');
  assert.equal(hits.byRule.get('pattern'), 2);
});

test('hostile lines stay fast (no catastrophic backtracking)', () => {
  const hostile = [
    'a'.repeat(64) + '="' + 'x'.repeat(200_000),
    'password=' + '='.repeat(200_000),
    '-----BEGIN PRIVATE KEY-----' + '-'.repeat(200_000),
    'eyJ' + 'a'.repeat(100_000) + '.eyJ' + 'b'.repeat(100_000),
    'x://' + 'a'.repeat(200_000),
    'Bearer ' + 'A'.repeat(200_000),
    'a.'.repeat(100_000) + '=1',
  ];
  const t0 = performance.now();
  for (const h of hostile) line(h);
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
});
