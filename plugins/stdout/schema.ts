export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: {
      enum: ['line', 'json'],
      default: 'line',
      description:
        "line: the record's line as is (object records: their `log`/`message` field, else JSON); json: one JSON object per line with date, tag and the fields.",
    },
    include_meta: { type: 'boolean', default: false, description: 'json format: add the record\'s metadata (path, cid, src, seq ...) under "meta".' },
  },
} as const;
