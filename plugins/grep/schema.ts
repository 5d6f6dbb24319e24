const rules = (what: string) =>
  ({
    anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    default: [],
    description: `\`KEY PATTERN\` (one string or a list): ${what}. KEY is \`log\` (the line of a line record, the \`log\` field of an object record), a field, a dotted path (\`kubernetes.labels.app\`) or a record accessor (\`$kubernetes['labels']['app']\`); PATTERN is a JavaScript regular expression, everything after the first run of spaces.`,
  }) as const;

export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    regex: rules('keep records whose KEY matches PATTERN (Fluent Bit grep `Regex`)'),
    exclude: rules('drop records whose KEY matches PATTERN (Fluent Bit grep `Exclude`)'),
    logical_op: {
      enum: ['legacy', 'and', 'or'],
      default: 'legacy',
      description:
        'How rules combine (Fluent Bit grep `Logical_Op`): `legacy` keeps a record when every regex matches and no exclude does; `and` / `or` need every / any rule to match (keep for regex, drop for exclude) and take rules of one kind only.',
    },
  },
} as const;
