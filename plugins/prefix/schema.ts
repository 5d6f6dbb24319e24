export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    prefix: {
      type: 'string',
      template: true,
      default: '[${tag}] ',
      description:
        'Text put in front of each line, compiled once as a template: ${tag}, ${host}, ${path}, ${cid}, ${time}, any other metadata or body field (${body.level}), ${env:NAME}, ${name:-fallback}; $${ is a literal ${.',
    },
    key: {
      type: 'string',
      minLength: 1,
      default: 'log',
      description:
        'Object records: the field that gets the prefix (records without a string field of that name pass unchanged, counted as prefix_skipped). Line records are prefixed as a whole.',
    },
  },
} as const;
