/**
 * Built-in secret detectors. Each regex has two groups: 1 = context that is kept (e.g.
 * "Bearer "), 2 = the secret that is masked. Every pattern is linear: no nested quantifiers,
 * bounded repetitions, so a hostile line cannot make the filter slow (no ReDoS).
 */
export interface Rule {
  readonly name: string;
  readonly description: string;
  /** Cheap test run first: the regex only runs when the line contains this. */
  readonly hint: string | RegExp;
  readonly re: RegExp;
  /** Optional check of a match (e.g. the key of key=value must name a secret). */
  readonly accept?: (prefix: string, secret: string) => boolean;
}

/** Keys whose value is a secret in `key=value` / `"key": "value"` text (matched at the key's end). */
export const SECRET_KEY = /(?:^|[_.-])(?:pass|pwd)$|(?:password|passwd|passphrase|secret|token|api_?key|apikey|access_?key|private_?key|credentials?)$/i;

export const RULES: readonly Rule[] = [
  {
    name: 'private_key',
    description: 'PEM private keys (-----BEGIN ... PRIVATE KEY-----): the key material up to the END line.',
    hint: 'PRIVATE KEY-----',
    re: /(-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----)([\s\S]+?)(?=-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|$)/g,
  },
  {
    name: 'jwt',
    description: 'JSON Web Tokens (eyJ....eyJ....sig).',
    hint: 'eyJ',
    re: /()\b(eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{0,4096})/g,
  },
  {
    name: 'bearer_token',
    description: 'Bearer tokens (Authorization: Bearer <token>).',
    hint: /bearer/i,
    re: /(\bBearer[ \t]+)([A-Za-z0-9._~+/-]{12,4096}=*)/gi,
  },
  {
    name: 'basic_auth',
    description: 'HTTP basic credentials (Authorization: Basic <base64>).',
    hint: /basic/i,
    re: /(\bAuthorization["']?[ \t]*[:=][ \t]*["']?Basic[ \t]+)([A-Za-z0-9+/]{1,4096}={0,2})/gi,
  },
  {
    name: 'aws_access_key_id',
    description: 'AWS access key ids (AKIA..., ASIA... 20 characters).',
    hint: /A(?:KIA|SIA|BIA|CCA|IDA|ROA|IPA|NPA|NVA|GPA)/,
    re: /()\b((?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA)[A-Z0-9]{16})\b/g,
  },
  {
    name: 'aws_secret_access_key',
    description: 'AWS secret access keys given as aws_secret_access_key=... (40 characters).',
    hint: /aws/i,
    re: /(\baws_?secret_?(?:access_?)?key["']?[ \t]*[:=][ \t]*["']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
  },
  {
    name: 'github_token',
    description: 'GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_).',
    hint: 'gh',
    re: /()\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g,
  },
  {
    name: 'slack_token',
    description: 'Slack tokens (xoxb-, xoxp-, xoxa-, xoxo-, xoxs-, xoxr-).',
    hint: 'xox',
    re: /()\b(xox[abposr]-[A-Za-z0-9-]{10,255})/g,
  },
  {
    name: 'url_password',
    description: 'Passwords in URLs (scheme://user:password@host).',
    hint: '://',
    re: /(\b[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s:/?#@]{1,256}:)([^\s/?#@]{1,1024})(?=@)/g,
  },
  {
    name: 'key_value',
    description: 'Values of secret-looking keys: password=..., "api_key": "...", client_secret: ..., db.token=...',
    hint: /[:=]/,
    // A quoted value may contain spaces; its quotes are kept around the mask.
    re: /([\w.-]{1,64}["']?[ \t]*[:=][ \t]*)("[^"\n]{0,4096}"|'[^'\n]{0,4096}'|[^\s"',;&}]{1,4096})/g,
    accept: (prefix) => SECRET_KEY.test(prefix.replace(/["']?[ \t]*[:=][ \t]*$/, '')),
  },
];

export const RULE_NAMES = RULES.map((r) => r.name);
