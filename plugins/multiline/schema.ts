export const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['multiline_parser'],
  properties: {
    multiline_parser: {
      type: 'string',
      minLength: 1,
      description: 'Multiline parser: a built-in (java, python, go, docker, cri) or one from the top-level `multiline_parsers:` list.',
      examples: ['java'],
    },
    key_content: {
      type: 'string',
      default: '',
      description:
        "Object records: the field the rules read and that gets the joined text. Empty: the parser's key_content (log; cri: message). Line records are read whole.",
    },
    flush_timeout: {
      unit: 'duration',
      default: 0,
      description: "An open record is emitted after this long without a record joining it. 0: the parser's flush_timeout (4s for the built-ins).",
    },
    max_lines: {
      type: 'integer',
      minimum: 1,
      default: 1000,
      description:
        'Most records joined into one. A longer one is cut (meta.truncated = true, counted in multiline_truncated); its rest goes on as a new record, also flagged.',
    },
    max_bytes: {
      unit: 'size',
      default: '1MiB',
      description: 'Most bytes of joined text in one record; past it the record is cut as with max_lines.',
    },
    time_budget: {
      unit: 'duration',
      default: '50ms',
      description:
        'Most time the rules may take on one record. Past it the record leaves as assembled so far, the parser is bypassed for a minute (records pass alone, counted in multiline_bypassed) and multiline_over_budget counts it.',
    },
  },
} as const;
