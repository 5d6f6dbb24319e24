export const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['parser'],
  properties: {
    key_name: {
      type: 'string',
      minLength: 1,
      default: 'log',
      description:
        'Object records: the field whose text is parsed (records without a string field of that name pass unchanged). Line records are parsed as a whole.',
    },
    parser: {
      anyOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
      ],
      description:
        'Parser name, or a list tried in order (the first that reads the text wins): a built-in (json, logfmt, ltsv, syslog-rfc3164, syslog-rfc5424, nginx, apache, cri, docker) or one from the top-level `parsers:` list.',
      examples: ['nginx', ['cri', 'json']],
    },
    reserve_data: {
      type: 'boolean',
      default: false,
      description: 'Keep the other fields of the record next to the parsed ones (a parsed field wins on a clash). false: the record becomes the parsed fields.',
    },
    preserve_key: {
      type: 'boolean',
      default: false,
      description: 'Keep the key_name field (the original text) in the parsed record.',
    },
  },
} as const;
