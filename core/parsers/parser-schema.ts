/** Schema of one entry of the top-level `parsers:` list (Fluent Bit's [PARSER] keys). */
import type { OptionsSchema } from '../plugin/schema.js';

export const parserSchema = {
  type: 'object',
  description: "A parser, declared once and used by name (the parser filter, tail's parser option).",
  additionalProperties: false,
  required: ['name', 'format'],
  properties: {
    name: { type: 'string', minLength: 1, description: 'Name the parser is used by; a built-in of the same name is replaced.' },
    format: { type: 'string', enum: ['json', 'regex', 'logfmt', 'ltsv'], description: 'How the text is read.' },
    regex: {
      type: 'string',
      description: 'format regex: a JavaScript regular expression whose named groups ((?<name>...)) become the fields. Checked when the config is read.',
    },
    time_key: { type: 'string', minLength: 1, default: 'time', description: 'Field holding the event time (used when time_format is set).' },
    time_format: {
      type: 'string',
      description:
        'strptime-style format of time_key, e.g. %Y-%m-%dT%H:%M:%S.%L%z or %d/%b/%Y:%H:%M:%S %z (%L: fraction up to ns; a year-less format takes the current year). Unset: the record time stays the read time.',
    },
    time_keep: { type: 'boolean', default: false, description: 'Keep the time_key field in the record after its time was taken.' },
    types: {
      anyOf: [{ type: 'string' }, { type: 'object', additionalProperties: { type: 'string' } }],
      description:
        'Field types: a map (code: integer) or Fluent Bit\'s "code:integer size:integer"; types are string, integer, float, bool, hex (checked when the config is read).',
    },
  },
} as const satisfies OptionsSchema;
