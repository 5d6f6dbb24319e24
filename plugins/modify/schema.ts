const rules = (format: string, what: string) =>
  ({
    anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    default: [],
    description: `\`${format}\` (one string or a list): ${what}`,
  }) as const;

export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    condition: rules(
      'TYPE KEY [VALUE]',
      'apply the rules only to records meeting every condition: `key_exists KEY`, `key_does_not_exist KEY`, `key_value_equals KEY VALUE`, `key_value_does_not_equal KEY VALUE`, `key_value_matches KEY REGEX`, `key_value_does_not_match KEY REGEX` (Fluent Bit modify `Condition`).',
    ),
    set: rules('KEY VALUE', 'set KEY to the string VALUE, replacing any value it had.'),
    add: rules('KEY VALUE', 'set KEY to the string VALUE if the record has no KEY.'),
    remove: rules('KEY', 'remove KEY.'),
    remove_wildcard: rules('PATTERN', 'remove every key matching PATTERN, where `*` matches any characters (`kube_*`).'),
    remove_regex: rules('REGEX', 'remove every key matching the regular expression.'),
    rename: rules('KEY NEW_KEY', 'rename KEY to NEW_KEY if KEY exists and NEW_KEY does not.'),
    hard_rename: rules('KEY NEW_KEY', 'rename KEY to NEW_KEY if KEY exists, replacing NEW_KEY.'),
    copy: rules('KEY NEW_KEY', 'copy KEY to NEW_KEY if KEY exists and NEW_KEY does not.'),
    hard_copy: rules('KEY NEW_KEY', 'copy KEY to NEW_KEY if KEY exists, replacing NEW_KEY.'),
  },
} as const;
