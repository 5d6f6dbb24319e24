/** Schema of one entry of the top-level `multiline_parsers:` list (Fluent Bit's [MULTILINE_PARSER] keys). */
import type { OptionsSchema } from '../plugin/schema.js';

export const multilineSchema = {
  type: 'object',
  description: "A multiline parser, declared once and used by name (tail's multiline option, the multiline filter).",
  additionalProperties: false,
  required: ['name', 'rules'],
  properties: {
    name: { type: 'string', minLength: 1, description: 'Name the parser is used by; a built-in of the same name (java, python, go, docker, cri) is replaced.' },
    type: { enum: ['regex'], default: 'regex', description: 'How records are joined: regex rules (the only type for user parsers).' },
    rules: {
      type: 'array',
      minItems: 1,
      items: {
        anyOf: [
          { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 3 },
          {
            type: 'object',
            additionalProperties: false,
            required: ['state', 'regex', 'next_state'],
            properties: { state: { type: 'string' }, regex: { type: 'string' }, next_state: { type: 'string' } },
          },
        ],
      },
      description:
        'Rules [state, regex, next_state] (or {state, regex, next_state}), as Fluent Bit\'s "rule" lines: a line matching a rule of start_state starts a record; while a record is open, the rules of its state continue it. state may list several states ("start_state, java_start_exception"); regex is a JavaScript regular expression, optionally between slashes. Checked when the config is read.',
      examples: [
        [
          ['start_state', '/^\\d{4}-\\d\\d-\\d\\d /', 'cont'],
          ['cont', '/^\\s+(at|\\.\\.\\.) /', 'cont'],
        ],
      ],
    },
    flush_timeout: {
      unit: 'duration',
      default: '4s',
      description: 'An open record is emitted after this long without a line joining it (a trace that ends is not held until the next line).',
    },
    key_content: {
      type: 'string',
      minLength: 1,
      default: 'log',
      description: 'Object records (the multiline filter): the field whose text the rules read and that holds the joined text. Line records are read whole.',
    },
  },
} as const satisfies OptionsSchema;
