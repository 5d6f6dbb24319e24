/**
 * qlog's config file (YAML content, usually named config_qlog.toml), as its user guide defines it.
 * Validated like native configs (file:line:column, unknown keys with "did you mean").
 */
import type { Infer, OptionsSchema } from '../plugin/schema.js';

/** Item names become tags and instance ids: keep them to characters that are safe in both. */
export const ITEM_NAME = '^[A-Za-z0-9_][A-Za-z0-9_.-]*$';

const interval = {
  unit: 'duration',
  description: 'resource items: sampling interval in seconds (an extension also accepts "500ms", "1m"). Default 15.',
} as const;

export const qlogItemSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'monitor_type', 'outputfile'],
  description: 'One monitored item.',
  properties: {
    name: { type: 'string', pattern: ITEM_NAME, description: "Item name (letters, digits, _ . -); becomes the records' tag." },
    monitor_type: { enum: ['file', 'resource'], description: 'file: a log file; resource: CPU and memory usage.' },
    monitor_path: { type: 'string', minLength: 1, description: 'file items: path of the log file inside the enclave.' },
    monitor_internel: interval,
    monitor_interval: { ...interval, description: "Same as monitor_internel (the spelling qlog's guide uses); give only one of them." },
    outputfile: { type: 'string', minLength: 1, description: 'File name on the parent: data is written to <workspace>/<outputfile>.' },
  },
} as const satisfies OptionsSchema;

export const qlogSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['port', 'workspace', 'monitor_items'],
  description: 'qlog config file.',
  properties: {
    port: { type: 'integer', minimum: 0, maximum: 4294967294, description: 'vsock port.' },
    workspace: { type: 'string', minLength: 1, description: "Directory for the agent's own log and (parent side) the monitored data." },
    server_logfile: { type: 'string', minLength: 1, default: 'server.log', description: "qlog monitor's own log: <workspace>/<server_logfile>." },
    client_logfile: { type: 'string', minLength: 1, default: 'client.log', description: "qlog receive-file's own log: <workspace>/<client_logfile>." },
    server_threads: { type: 'integer', minimum: 0, default: 1, description: 'Accepted for compatibility; no effect (see docs/migrating-from-qlog.md).' },
    client_threads: { type: 'integer', minimum: 0, default: 1, description: 'Accepted for compatibility; no effect (see docs/migrating-from-qlog.md).' },
    log_level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'off'], default: 'info', description: 'TRACE, DEBUG, INFO, WARN, ERROR or OFF (any case).' },
    rotate_size: { unit: 'size', default: '2MB', description: 'Rotate a file at this size (bytes, or 64KiB, 2MB ...).' },
    rotate_num: { type: 'integer', minimum: 1, maximum: 1000, default: 10, description: 'Rotated files kept.' },
    monitor_items: { type: 'array', items: qlogItemSchema, description: 'What to monitor.' },
  },
} as const satisfies OptionsSchema;

export type QlogConfig = Infer<typeof qlogSchema>;
export type QlogItem = QlogConfig['monitor_items'][number];
