/** Schemas of the `service` section and of the options every input/filter/output entry has. */
import type { PluginKind } from '../plugin/define.js';
import type { Infer, OptionsSchema, PropertySchema } from '../plugin/schema.js';

export const serviceSchema = {
  type: 'object',
  description: 'Agent-wide settings.',
  additionalProperties: false,
  properties: {
    log_level: {
      type: 'string',
      enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      default: 'info',
      description: "Level of the agent's own log.",
    },
    log_file: { type: 'string', default: '', description: "File for the agent's own log (JSON lines, pino). Empty: stderr." },
    log_rotate_size: { unit: 'size', default: '10MB', description: 'Rotate log_file when it reaches this size.' },
    log_rotate_num: { type: 'integer', minimum: 1, default: 5, description: 'Rotated log_file generations kept.' },
    state_dir: {
      type: 'string',
      default: '.qlog-state',
      description: 'Directory for offsets and delivery state (relative to the working directory). Must survive restarts for no-loss/no-duplicate delivery.',
    },
    grace: { unit: 'duration', default: '5s', description: 'On SIGTERM/SIGINT/reload, how long outputs may take to drain before the agent gives up on them.' },
    plugins: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'Third-party plugins to load: npm package names or paths, resolved from the config file directory, then the working directory.',
    },
    hostname: { type: 'string', default: '', description: 'Host name put in records (meta.host, ${host}). Empty: os.hostname().' },
    http_listen: {
      type: 'string',
      default: '',
      description:
        'Address for the metrics endpoint (GET /metrics, Prometheus text; GET /api/v1/metrics, JSON; GET /api/v1/health), e.g. 127.0.0.1:2020. Empty: off.',
    },
    hc_errors_count: {
      type: 'integer',
      minimum: 0,
      default: 5,
      description: 'GET /api/v1/health answers 500 when more errors than this (all plugin instances together) happened within hc_period.',
    },
    hc_retry_failure_count: {
      type: 'integer',
      minimum: 0,
      default: 5,
      description: 'GET /api/v1/health answers 500 when more chunks than this were dropped after their last retry within hc_period.',
    },
    hc_period: { unit: 'duration', default: '60s', description: 'The window hc_errors_count and hc_retry_failure_count are counted over.' },
    hc_stall_timeout: {
      unit: 'duration',
      default: '60s',
      description:
        'GET /api/v1/health answers 500 when an output holds records and has delivered none for this long (a peer that accepts nothing). 0: not checked.',
    },
  },
} as const satisfies OptionsSchema;

export type ServiceOptions = Infer<typeof serviceSchema>;

const name = { type: 'string', description: 'Plugin name (see `qlog plugins`).' } as const satisfies PropertySchema;
const alias = {
  type: 'string',
  pattern: '^[A-Za-z0-9_.-]+$',
  description: 'Instance id used in logs and metrics. Default: <name>.<index>.',
} as const satisfies PropertySchema;
const match = {
  anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }],
  default: '*',
  description: 'Tag pattern(s) this entry receives: `*` matches any characters (dots included); a list matches any of its patterns.',
} as const satisfies PropertySchema;

export const commonProperties = {
  input: {
    name,
    alias,
    tag: { type: 'string', description: 'Tag of the records. Default: <name>.<index>. tail expands `*` from the file path.' },
    buffer_limit: {
      unit: 'size',
      default: '4MiB',
      description:
        "Memory of this input's records waiting for the filters (line bytes + ~160 bytes per record); above it the input is paused (or, for samplers, drops).",
    },
  },
  filter: { name, alias, match },
  output: {
    name,
    alias,
    match,
    buffer_limit: {
      unit: 'size',
      default: '8MiB',
      description:
        'Memory of the records queued or in flight for this output (line bytes + ~160 bytes per record); when full, the inputs routed to it pause (the file is the buffer) and samplers drop.',
    },
    workers: { type: 'integer', minimum: 1, maximum: 64, default: 1, description: 'How many chunks may be in flight at once (1 keeps strict order).' },
    flush_max_size: { unit: 'size', default: '1MiB', description: 'Queued chunks with the same tag are merged into one flush up to this size.' },
    retry_limit: {
      anyOf: [{ type: 'integer', minimum: 0 }, { enum: ['no_limits', false] }],
      default: 'no_limits',
      description:
        'Retries of a failed flush before the chunk is dropped (counted); no_limits (default) keeps retrying, so a lasting failure fills the buffer and pauses the inputs instead of losing data.',
    },
    retry_base: {
      unit: 'duration',
      default: '500ms',
      description: 'First retry delay; doubles each retry (with equal jitter: each wait is between half and all of the delay).',
    },
    retry_max: { unit: 'duration', default: '30s', description: 'Longest retry delay.' },
  },
} as const satisfies Record<PluginKind, Record<string, PropertySchema>>;

/** Options every entry of kind K has, after defaults and unit conversion (derived from commonProperties). */
type CommonOptions<K extends PluginKind> = Infer<{ type: 'object'; properties: (typeof commonProperties)[K]; required: readonly ['name'] }>;
export type CommonInput = CommonOptions<'input'>;
export type CommonFilter = CommonOptions<'filter'>;
export type CommonOutput = CommonOptions<'output'>;
export const COMMON_KEYS: Record<PluginKind, readonly string[]> = {
  input: Object.keys(commonProperties.input),
  filter: Object.keys(commonProperties.filter),
  output: Object.keys(commonProperties.output),
};

// Keyed by kind too: one schema object may be shared by plugins of different kinds (an input/output pair).
const combined: Record<PluginKind, WeakMap<OptionsSchema, OptionsSchema>> = { input: new WeakMap(), filter: new WeakMap(), output: new WeakMap() };
/** The plugin's schema plus the common options of its kind (cached: compiled once). */
export function entrySchema(kind: PluginKind, schema: OptionsSchema): OptionsSchema {
  let s = combined[kind].get(schema);
  if (!s) {
    s = { ...schema, properties: { ...commonProperties[kind], ...schema.properties }, required: ['name', ...(schema.required ?? [])] };
    combined[kind].set(schema, s);
  }
  return s;
}
