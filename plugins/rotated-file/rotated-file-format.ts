/**
 * How a record becomes a line in the file: as written (`line`), JSON, or a template. A sealed
 * unit (docs/sealing.md) is always its `qlog-sealed/1` line: no format applies to bytes the
 * parent cannot read.
 */
import { isoTimeNs, recordLine, toJson, type LogRecord } from '../../core/index.js';
import { sealedLine } from '../../core/sealed-record.js';
import { compileTemplate } from '../../core/template.js';

export type Format = 'line' | 'json' | 'template';

/** `{time, tag, ...fields}`: the time with its nanoseconds, integers beyond 2^53 exact. */
function jsonLine(r: LogRecord): string {
  const fields = typeof r.body === 'string' ? { log: r.body } : r.body;
  return toJson({ time: isoTimeNs(r.time), tag: r.tag, ...fields });
}

function plainFormatter(format: Format, template: string): (r: LogRecord) => string {
  switch (format) {
    case 'json':
      return jsonLine;
    case 'template':
      return compileTemplate(template);
    default:
      return recordLine;
  }
}

export function formatter(format: Format, template: string): (r: LogRecord) => string {
  const plain = plainFormatter(format, template);
  return (r) => (typeof r.body === 'string' ? plain(r) : (sealedLine(r) ?? plain(r)));
}
