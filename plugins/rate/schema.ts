export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rate: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 1000,
      description:
        'Records let through per interval, averaged over the window (Fluent Bit throttle `rate`; fractions allowed, e.g. 0.5 with interval 1s = one record every 2 s). Fluent Bit defaults to 1; ours is a guard against floods, not a trickle.',
    },
    window: {
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      default: 5,
      description:
        'Intervals the rate is averaged over (Fluent Bit throttle `window`): a key that was quiet may send up to rate × window records at once; a key that keeps sending gets `rate` per interval on average.',
    },
    interval: {
      unit: 'duration',
      default: '1s',
      description: 'Length of one interval (Fluent Bit throttle `interval`). Also how often drop summaries are sent.',
    },
    key: {
      type: 'string',
      template: true,
      default: 'tag',
      description:
        'What the limit is counted per: `tag`, a metadata field (`path`, `meta.cid`, `host` ...), a body field (`body.level`), or a template combining several (`${host}:${path}`). Records where the field is missing share one key.',
    },
    max_keys: {
      type: 'integer',
      minimum: 1,
      default: 10000,
      description:
        'Most keys tracked at once; past it the least recently used key is forgotten (it starts again with an empty window). Bounds memory whatever the key values are.',
    },
    action: {
      enum: ['drop', 'pause'],
      default: 'drop',
      description:
        'drop: discard records over the limit (counted as rate_dropped) and report them in summary records. pause: hold the chunk until the window has room, which pauses the input (tail stops reading; nothing is lost).',
    },
    summary: {
      type: 'boolean',
      default: true,
      description:
        "action drop: once per interval in which records of a key were dropped, emit a record `rate: dropped N records for KEY in the last INTERVAL` under that key's tag (meta.rate_summary = true), so the receiver sees the gap.",
    },
  },
} as const;
