/**
 * json_lines (NDJSON: one document per line, each ending in "\n") and json (one array): the
 * bodies generic collectors take, e.g. Vector's http_server source (decoding json / framing
 * newline_delimited) and Fluent Bit's in_http.
 */
import type { LogRecord } from '../../core/index.js';
import { documentJson, type DocumentShape, type Format } from './http-format.js';

export function jsonLinesFormat(shape: DocumentShape): Format {
  return {
    path: '/',
    contentType: 'application/x-ndjson',
    encode(records: readonly LogRecord[]): string {
      let s = '';
      for (const r of records) s += `${documentJson(r, shape)}\n`;
      return s;
    },
  };
}

export function jsonArrayFormat(shape: DocumentShape): Format {
  return {
    path: '/',
    contentType: 'application/json',
    encode(records: readonly LogRecord[]): string {
      let s = '[';
      for (let i = 0; i < records.length; i++) s += (i ? ',' : '') + documentJson(records[i]!, shape);
      return `${s}]`;
    },
  };
}
