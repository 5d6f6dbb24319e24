import { LOG_FIELDS, TIME_FORMATS } from './resource-format.js';

export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    interval: {
      unit: 'duration',
      default: '15s',
      description: 'Time between samples (qlog: monitor_internel). CPU figures cover the time since the previous sample. At least 100ms.',
    },
    processes: {
      type: 'array',
      items: { type: ['string', 'integer'] },
      default: [],
      description:
        'Processes to report CPU % (of one core, like top) and RSS for: pids, `self` (the agent), or names matched against /proc/<pid>/comm (first 15 bytes); all processes with a name are summed.',
    },
    process_scan_every: {
      type: 'integer',
      minimum: 1,
      default: 4,
      description:
        'Look up process names (one read of /proc/<pid>/comm per process) at most once every N samples; in between the pids found last time are re-read. A restarted process is picked up at the next scan.',
    },
    cgroup: {
      type: 'boolean',
      default: true,
      description:
        "Report the memory limit and usage of the agent's cgroup (v2 memory.max/memory.current or v1 memory.limit_in_bytes/usage_in_bytes) when the machine has one.",
    },
    log_fields: {
      type: 'array',
      items: { enum: LOG_FIELDS },
      default: ['cpu', 'mem', 'load', 'cgroup', 'processes'],
      description: 'What the readable `log` line shows, in this order. The structured fields are always all present.',
    },
    time_format: {
      enum: TIME_FORMATS,
      default: 'iso8601',
      description:
        'How the `log` line starts with the sample time: iso8601 (UTC, e.g. 2026-12-05T08:00:15.002Z), iso8601_local (local time with its offset), epoch (seconds, 3 decimals), epoch_ms, or none (no time, as qlog wrote it).',
    },
    inventory: {
      type: 'boolean',
      default: true,
      description: 'Add an `inventory` object (host name, kernel, CPU model, cores, memory total) to the first sample after start.',
    },
  },
} as const;
