/** How a record becomes a line in the file: as written (`line`), JSON, or a template. */
import { recordLine, type LogRecord } from '../../core/index.js';
import { compileTemplate } from '../../core/template.js';

export type Format = 'line' | 'json' | 'template';

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

function jsonLine(r: LogRecord): string {
  const ms = Number(r.time / 1_000_000n);
  const time = Number.isFinite(ms) ? new Date(ms).toISOString() : '';
  const fields = typeof r.body === 'string' ? { log: r.body } : r.body;
  const o = { time, tag: r.tag, ...fields };
  try {
    return JSON.stringify(o);
  } catch {
    return JSON.stringify(o, bigintSafe);
  }
}

export function formatter(format: Format, template: string): (r: LogRecord) => string {
  switch (format) {
    case 'json':
      return jsonLine;
    case 'template':
      return compileTemplate(template);
    default:
      return recordLine;
  }
}
