/** How a record becomes a line in the file: as written (`line`), JSON, or a template. */
import { isoTimeNs, recordLine, toJson, type LogRecord } from '../../core/index.js';
import { compileTemplate } from '../../core/template.js';

export type Format = 'line' | 'json' | 'template';

/** `{time, tag, ...fields}`: the time with its nanoseconds, integers beyond 2^53 exact. */
function jsonLine(r: LogRecord): string {
  const fields = typeof r.body === 'string' ? { log: r.body } : r.body;
  return toJson({ time: isoTimeNs(r.time), tag: r.tag, ...fields });
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
