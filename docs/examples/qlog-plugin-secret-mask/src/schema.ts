/** Options of the secret-mask filter (JSON Schema, `as const`: ctx.options is typed from it). */
export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rules: {
      type: 'array',
      items: {
        enum: ['private_key', 'jwt', 'bearer_token', 'basic_auth', 'aws_access_key_id', 'aws_secret_access_key', 'github_token', 'slack_token', 'url_password', 'key_value'],
      },
      default: ['private_key', 'jwt', 'bearer_token', 'basic_auth', 'aws_access_key_id', 'aws_secret_access_key', 'github_token', 'slack_token', 'url_password', 'key_value'],
      description: 'Built-in detectors to apply (all by default; see the rules table).',
    },
    patterns: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'Extra regular expressions, as `re` or `/re/flags`. With a capture group only group 1 is masked, else the whole match.',
    },
    keys: {
      type: 'array',
      items: { type: 'string' },
      default: ['password', 'passwd', 'secret', 'token', 'api_key', 'apikey', 'access_token', 'refresh_token', 'client_secret', 'private_key', 'authorization', 'cookie', 'set-cookie'],
      description: 'Object records: fields (any depth, case-insensitive) whose whole value is masked.',
    },
    mask: {
      type: 'string',
      template: true,
      default: '[REDACTED]',
      description: 'Replacement text. `${rule}` is replaced by the name of the rule that matched (e.g. `[${rule}]`).',
    },
    show_last: {
      type: 'integer',
      minimum: 0,
      maximum: 8,
      default: 0,
      description: 'Keep this many trailing characters of each secret after the mask (to tell secrets apart); only for secrets at least 4 times longer.',
    },
  },
} as const;
