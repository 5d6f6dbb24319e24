import { test } from 'node:test';
import assert from 'node:assert/strict';
import redact from '../../../plugins/redact/index.js';
import { luhn } from '../../../plugins/redact/redact-detectors.js';
import { createHarness } from '../../../core/testing/index.js';

const harness = (options: Record<string, unknown> = {}) => createHarness(redact, { options, tag: 'app' });

/** The lines after the default `- name: redact` (plus `options`). */
async function masked(lines: string[], options: Record<string, unknown> = {}): Promise<string[]> {
  const h = await harness(options);
  try {
    return (await h.filter(lines)).map((r) => r.body as string);
  } finally {
    await h.stop();
  }
}

test('credit_card: Luhn-valid numbers, grouped or not, are masked; a Luhn failure, a longer run or an epoch time is not', async () => {
  assert.equal(luhn('4111111111111111'), true);
  assert.equal(luhn('4111111111111112'), false);
  assert.deepEqual(
    await masked([
      'card 4111111111111111 ok',
      'card 4111 1111 1111 1111 ok',
      'amex 3782-822463-10005.',
      'order 4111111111111112 (fails Luhn)',
      'id 41111111111111110000000 (23 digits)',
      'version 1.4111111111111111',
      'at 1733360000009 ms, 1796437220313000001 ns (epoch times passing Luhn)',
    ]),
    [
      'card [REDACTED:credit_card] ok',
      'card [REDACTED:credit_card] ok',
      'amex [REDACTED:credit_card].',
      'order 4111111111111112 (fails Luhn)',
      'id 41111111111111110000000 (23 digits)',
      'version 1.4111111111111111',
      'at 1733360000009 ms, 1796437220313000001 ns (epoch times passing Luhn)',
    ],
  );
});

test('aws_key: AKIA + 16 is a key id; 15 or 17 characters or lower case are not; a secret key after its name is masked', async () => {
  assert.deepEqual(
    await masked([
      'key=AKIAIOSFODNN7EXAMPLE used',
      'temp ASIAY34FZKBOKMUTVV7A',
      'short AKIAIOSFODNN7EXAMPL',
      'long AKIAIOSFODNN7EXAMPLEX',
      'lower akiaiosfodnn7example',
      'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    ]),
    [
      'key=[REDACTED:aws_key] used',
      'temp [REDACTED:aws_key]',
      'short AKIAIOSFODNN7EXAMPL',
      'long AKIAIOSFODNN7EXAMPLEX',
      'lower akiaiosfodnn7example',
      'aws_secret_access_key = [REDACTED:aws_key]',
    ],
  );
});

test('cloud_key: Google API keys, GitHub and Slack tokens; near misses pass', async () => {
  assert.deepEqual(
    await masked([
      'g AIzaSyA1234567890abcdefghijklmnopqrstuv',
      'gh ghp_0123456789abcdefghijklmnopqrstuvwxyz',
      'slack xoxb-123456789012-abcdefghij',
      'g AIzaShort',
      'gh ghp_tooshort',
    ]),
    ['g [REDACTED:cloud_key]', 'gh [REDACTED:cloud_key]', 'slack [REDACTED:cloud_key]', 'g AIzaShort', 'gh ghp_tooshort'],
  );
});

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

test('jwt: three base64url parts; two parts or a non-JSON header are not a JWT', async () => {
  assert.deepEqual(await masked([`token=${JWT}`, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0', 'abcdefgh.ijklmnop.qrstuvwxyz']), [
    'token=[REDACTED:jwt]',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0',
    'abcdefgh.ijklmnop.qrstuvwxyz',
  ]);
});

test('bearer: the token after "Bearer" is masked (a JWT is named jwt); a short word is not a token', async () => {
  assert.deepEqual(await masked(['Authorization: Bearer mF_9.B5f-4.1JqM', `authorization: bearer ${JWT}`, 'the bearer of bad news']), [
    'Authorization: Bearer [REDACTED:bearer]',
    'authorization: bearer [REDACTED:jwt]',
    'the bearer of bad news',
  ]);
});

test('private_key: a PEM block across lines of one record is masked whole; a public key or certificate is not', async () => {
  const pem =
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yQIDAQABAoIBAQC=\n-----END RSA PRIVATE KEY-----';
  const pub = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----';
  assert.deepEqual(await masked([`key:\n${pem}\ndone`, pub, '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC (cut)']), [
    'key:\n[REDACTED:private_key]\ndone',
    pub,
    '[REDACTED:private_key]',
  ]);
});

test('url_password: the password of scheme://user:pass@host; user@host or host:port is left', async () => {
  assert.deepEqual(await masked(['GET https://user:pass@host/x', 'db postgres://app:s3cr%21t@db:5432/app', 'ssh://git@github.com/x', 'http://host:8080/a@b']), [
    'GET https://user:[REDACTED:url_password]@host/x',
    'db postgres://app:[REDACTED:url_password]@db:5432/app',
    'ssh://git@github.com/x',
    'http://host:8080/a@b',
  ]);
});

test('email: off by default, masked when listed in detectors', async () => {
  const line = 'mail from alice.smith+x@example.co.uk, not @handle or a@b';
  assert.deepEqual(await masked([line]), [line]);
  assert.deepEqual(await masked([line], { detectors: ['email'] }), ['mail from [REDACTED:email], not @handle or a@b']);
});

test('detectors: [] turns every built-in off', async () => {
  assert.deepEqual(await masked(['AKIAIOSFODNN7EXAMPLE 4111111111111111'], { detectors: [] }), ['AKIAIOSFODNN7EXAMPLE 4111111111111111']);
});
