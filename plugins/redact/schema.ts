import { DETECTOR_NAMES, DEFAULT_DETECTORS } from './redact-detectors.js';

export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    detectors: {
      type: 'array',
      items: { enum: DETECTOR_NAMES },
      default: DEFAULT_DETECTORS,
      description:
        'Built-in detectors that run (in this order): credit_card (13-19 digits starting with 2-6 and passing the Luhn check), aws_key (AKIA... key ids, aws_secret_access_key=...), cloud_key (Google API keys, GitHub and Slack tokens), jwt, bearer, private_key (PEM blocks, across lines of one record), url_password (the password of scheme://user:pass@host), email. Every one but email is on by default; [] turns them all off.',
    },
    patterns: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,39}$', description: 'Rule name: in the replacement and the counter redact_<name>.' },
          regex: {
            type: 'string',
            minLength: 1,
            description: 'JavaScript regular expression; a named group (?<secret>...) masks only that part of the match.',
          },
          flags: { type: 'string', pattern: '^[imsu]*$', default: '', description: 'Regex flags among i, m, s, u (g is implied).' },
        },
        required: ['name', 'regex'],
        additionalProperties: false,
      },
      default: [],
      description:
        'Your own rules, run after the built-ins, e.g. [{name: order_token, regex: "ord_[0-9a-f]{32}"}]. Each is compiled once when the config is read; an invalid one, or one with a nested quantifier such as (a+)+ that can backtrack exponentially, is a config error.',
    },
    mode: {
      enum: ['text', 'hash'],
      default: 'text',
      description:
        'text: a secret becomes the replacement text. hash: it becomes a keyed hash (HMAC-SHA256 with the key of hash_key_file or hash_key_env, first hash_chars hex digits), so the same secret always gives the same token and can be correlated, but not recovered.',
    },
    replacement: {
      type: 'string',
      template: true,
      default: '',
      description:
        'What a secret is replaced with; ${rule} is the rule name, ${hash} the keyed hash (mode hash only). Empty: [REDACTED:${rule}] in mode text, [REDACTED:${rule}:${hash}] in mode hash.',
    },
    hash_key_file: {
      type: 'string',
      default: '',
      description:
        'mode hash: file holding the HMAC key (read once at start; trailing newline removed; a relative path is taken from the working directory). The key never belongs in the YAML.',
    },
    hash_key_env: {
      type: 'string',
      default: '',
      description: 'mode hash: name of the environment variable holding the HMAC key (instead of hash_key_file).',
    },
    hash_chars: {
      type: 'integer',
      minimum: 4,
      maximum: 64,
      default: 8,
      description: 'mode hash: hex digits of the HMAC kept in the token (8 = 32 bits: enough to tell secrets apart in logs).',
    },
    keys: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description:
        'Object records: only these top-level fields are scanned (with everything nested in them). Empty: every string value, at any depth up to 32. Line records are always scanned whole.',
    },
    time_budget: {
      unit: 'duration',
      default: '100ms',
      description:
        'Most time one user pattern may take on one chunk. Past it the pattern is skipped for the rest of the chunk: those records are marked meta.redact_incomplete = true (counted in redact_incomplete_records) and the pattern is counted in redact_over_budget_<name>, so one slow pattern cannot stall the agent. Built-in detectors are linear and not limited.',
    },
  },
} as const;
