/**
 * otlp: OTLP/HTTP with the JSON encoding, POST /v1/logs (an ExportLogsServiceRequest, as the
 * OpenTelemetry Collector's otlphttp receiver (OTLP 1.x) takes it). The JSON mapping of the
 * protobuf schema: lowerCamelCase field names, 64-bit integers (timeUnixNano, intValue) as
 * decimal strings, enums (severityNumber) as numbers, trace and span ids as hex (not base64).
 *   {"resourceLogs":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"h"}}]},
 *     "scopeLogs":[{"scope":{"name":"qlog","version":"0.1.0"},"logRecords":[{"timeUnixNano":"...",
 *     "observedTimeUnixNano":"...","severityNumber":9,"severityText":"info","body":{"stringValue":"..."}}]}]}]}
 * A 200 answer may carry partialSuccess.rejectedLogRecords: those are dropped (not retried).
 */
import { nowNs, VERSION, type LogRecord } from '../../core/index.js';
import type { Accepted, Format } from './http-format.js';

type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } }
  | Record<string, never>;
interface KeyValue {
  key: string;
  value: AnyValue;
}

function anyValue(v: unknown): AnyValue {
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'bigint':
      return { intValue: v.toString() };
    case 'number':
      return Number.isSafeInteger(v) ? { intValue: String(v) } : { doubleValue: v };
    case 'object':
      if (v === null) return {};
      if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
      return { kvlistValue: { values: keyValues(v as Record<string, unknown>) } };
    default:
      return {};
  }
}

function keyValues(o: Record<string, unknown>, skip?: ReadonlySet<string>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const k in o) if (!skip?.has(k) && o[k] !== undefined) out.push({ key: k, value: anyValue(o[k]) });
  return out;
}

/** Severity names and pino's numeric levels -> OTLP SeverityNumber (TRACE=1 DEBUG=5 INFO=9 WARN=13 ERROR=17 FATAL=21). */
const SEVERITY: Record<string, number> = {
  trace: 1,
  debug: 5,
  info: 9,
  notice: 10,
  warn: 13,
  warning: 13,
  error: 17,
  err: 17,
  fatal: 21,
  critical: 21,
  crit: 21,
  alert: 22,
  emerg: 23,
  panic: 23,
};
const PINO: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function severity(level: unknown): { severityNumber: number; severityText: string } | undefined {
  const text = typeof level === 'number' ? PINO[level] : typeof level === 'string' ? level : undefined;
  if (text === undefined) return undefined;
  const n = SEVERITY[text.toLowerCase()];
  return n === undefined ? undefined : { severityNumber: n, severityText: text };
}

const MAPPED = new Set(['message', 'log', 'level', 'severity', 'trace_id', 'span_id']);
const HEX32 = /^[0-9a-f]{32}$/i;
const HEX16 = /^[0-9a-f]{16}$/i;

function logRecord(r: LogRecord, observed: string): Record<string, unknown> {
  const out: Record<string, unknown> = { timeUnixNano: r.time.toString(), observedTimeUnixNano: observed };
  const attributes: KeyValue[] = [{ key: 'qlog.tag', value: { stringValue: r.tag } }];
  const { src, seq } = r.meta;
  if (typeof src === 'string' && typeof seq === 'number') attributes.push({ key: 'log.record.uid', value: { stringValue: `${src}:${seq}` } });
  const b = r.body;
  if (typeof b === 'string') {
    out.body = { stringValue: b };
  } else {
    const sev = severity(b.level ?? b.severity);
    if (sev) Object.assign(out, sev);
    const line = typeof b.message === 'string' ? b.message : typeof b.log === 'string' ? b.log : undefined;
    if (line === undefined) out.body = anyValue(b);
    else {
      out.body = { stringValue: line };
      for (const kv of keyValues(b, MAPPED)) attributes.push(kv);
      if (typeof b.trace_id === 'string' && HEX32.test(b.trace_id)) out.traceId = b.trace_id.toLowerCase();
      if (typeof b.span_id === 'string' && HEX16.test(b.span_id)) out.spanId = b.span_id.toLowerCase();
    }
  }
  out.attributes = attributes;
  return out;
}

interface Resource {
  attributes: KeyValue[];
  records: Record<string, unknown>[];
}

export function otlpFormat(serviceName: string, hostname: string): Format {
  const scope = { name: 'qlog', version: VERSION };
  return {
    path: '/v1/logs',
    contentType: 'application/json',
    encode(records: readonly LogRecord[]): string {
      const observed = nowNs().toString();
      const resources = new Map<string, Resource>();
      for (const r of records) {
        const host = typeof r.meta.host === 'string' ? r.meta.host : hostname;
        const cid = typeof r.meta.cid === 'number' ? r.meta.cid : undefined;
        const path = typeof r.meta.path === 'string' ? r.meta.path : undefined;
        const key = `${host}\u0000${cid ?? ''}\u0000${path ?? ''}`;
        let res = resources.get(key);
        if (!res) {
          const attributes: KeyValue[] = [
            { key: 'service.name', value: { stringValue: serviceName } },
            { key: 'host.name', value: { stringValue: host } },
          ];
          if (cid !== undefined) attributes.push({ key: 'qlog.enclave.cid', value: { intValue: String(cid) } });
          if (path !== undefined) attributes.push({ key: 'log.file.path', value: { stringValue: path } });
          res = { attributes, records: [] };
          resources.set(key, res);
        }
        res.records.push(logRecord(r, observed));
      }
      const resourceLogs = [...resources.values()].map((res) => ({
        resource: { attributes: res.attributes },
        scopeLogs: [{ scope, logRecords: res.records }],
      }));
      return JSON.stringify({ resourceLogs });
    },
    accepted(body: Buffer): Accepted {
      if (body.length === 0) return {};
      const res = JSON.parse(body.toString('utf8')) as { partialSuccess?: { rejectedLogRecords?: string | number; errorMessage?: string } };
      const rejected = Number(res.partialSuccess?.rejectedLogRecords ?? 0);
      return rejected > 0 ? { rejected, reason: res.partialSuccess?.errorMessage ?? '' } : {};
    },
  };
}
