export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dummy: {
      type: 'string',
      template: true,
      default: '{"message":"dummy"}',
      description: 'The record: a JSON object (becomes an object body) or any other text (becomes a line). `${seq}` is replaced by a counter starting at 1.',
    },
    rate: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Records per second.' },
    samples: { type: 'integer', minimum: 0, default: 0, description: 'Stop after this many records (0: never stop).' },
  },
} as const;
