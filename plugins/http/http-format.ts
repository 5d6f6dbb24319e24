/**
 * What every wire format provides (one file per format: http-json.ts, http-elasticsearch.ts,
 * http-loki.ts, http-otlp.ts), and the document shape and time rendering they share.
 */
import { isoTimeNs, toJson, type LogRecord } from '../../core/index.js';

/** How the target answered one record of an accepted (2xx) request: an HTTP-like status. */
export interface ItemVerdict {
  /** 2xx: stored; 429 or 5xx: retry it; other: rejected for good. */
  status: number;
  /** Why it was not stored (the target's words), for the log. */
  reason?: string;
  /** The failure of the whole request, when the verdict is the request's. */
  error?: Error;
}

/** What a 2xx response says beyond "accepted". */
export interface Accepted {
  /** One verdict per record sent, in order (Elasticsearch's per-item statuses). */
  items?: ItemVerdict[];
  /** Records the target dropped without saying which (OTLP partialSuccess). */
  rejected?: number;
  reason?: string;
}

export interface Format {
  /** Endpoint path used when the url has none. */
  readonly path: string;
  readonly contentType: string;
  /** The request body for these records (never empty). */
  encode(records: readonly LogRecord[]): string;
  /** Reads a 2xx response body; absent: a 2xx means every record was stored. */
  accepted?(body: Buffer, count: number): Accepted;
}

/** A retriable verdict: the target asks to send the record again later. */
export function retriable(status: number): boolean {
  return status === 429 || status >= 500;
}

export interface DocumentShape {
  timeKey: string;
  tagKey: string;
  includeMeta: boolean;
}

/**
 * A record as a JSON document: `{<time>, <tag>, ...fields}`, where the fields are an object
 * body's or `log` for a line (Fluent Bit's name), and `meta` when asked for.
 */
export function documentJson(r: LogRecord, s: DocumentShape): string {
  const doc: Record<string, unknown> = { [s.timeKey]: isoTimeNs(r.time) };
  if (s.tagKey) doc[s.tagKey] = r.tag;
  if (typeof r.body === 'string') doc.log = r.body;
  else Object.assign(doc, r.body);
  if (s.includeMeta) doc.meta = r.meta;
  return toJson(doc);
}
