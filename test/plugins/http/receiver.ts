/**
 * A local HTTP(S) receiver for the http output's tests. It records every request (headers and
 * the body, gunzipped when Content-Encoding says gzip) and answers what the test scripts, or by
 * default what the real server would: each `check*` function enforces the documented request
 * shape of one API (Elasticsearch _bulk, Loki push, OTLP/HTTP JSON) and throws on a violation,
 * which the receiver answers with 400 and the reason (and the test sees in `violations`).
 *
 *   const rx = await startReceiver(t, { check: checkBulk });
 *   rx.script((req) => (req.n === 0 ? { status: 503 } : undefined));   // undefined: default answer
 *   await rx.waitFor((r) => r.length >= 2);
 */
import { createServer as createHttp, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import type { HasAfter } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

export interface Received {
  /** 0-based request number. */
  n: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as sent (maybe gzip). */
  raw: Buffer;
  /** The body decoded (gunzipped when Content-Encoding: gzip). */
  text: string;
  /** What the check function made of the body (the default answer uses it). */
  parsed?: unknown;
  /** The status the receiver answered. */
  answered?: number;
  /** When it arrived (performance.now()). */
  at: number;
  /** https with `tls.ca`: the subject CN of the client certificate the request came with. */
  clientCn?: string;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** Validates a request as the real server would; returns what the default answer needs. */
export type Check = (r: Received) => { parsed?: unknown; answer: Answer };

export interface Receiver {
  url: string;
  requests: Received[];
  /** Requests whose check failed (the reason). */
  violations: string[];
  /** Answer request `r` yourself: return an Answer, or undefined for the default one. */
  script(f: (r: Received) => Answer | undefined): void;
  waitFor(cond: (requests: Received[]) => boolean, what?: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  check?: Check;
  /** Serve https with this key and certificate (PEM); with `ca`, clients must present a certificate signed by it (mutual TLS). */
  tls?: { key: Buffer; cert: Buffer; ca?: Buffer };
}

/** Accepts anything: 200, empty body. */
const anything: Check = () => ({ answer: { status: 200 } });

export async function startReceiver(owner: HasAfter, opts: ReceiverOptions = {}): Promise<Receiver> {
  const check = opts.check ?? anything;
  const requests: Received[] = [];
  const violations: string[] = [];
  let scripted: ((r: Received) => Answer | undefined) | undefined;
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(parts);
      const r: Received = { n: requests.length, method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, text: '', at: performance.now() };
      if (opts.tls?.ca) r.clientCn = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let answer: Answer;
      try {
        r.text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        const c = check(r);
        r.parsed = c.parsed;
        answer = c.answer;
      } catch (e) {
        violations.push((e as Error).message);
        answer = { status: 400, body: JSON.stringify({ error: (e as Error).message }) };
      }
      requests.push(r);
      answer = scripted?.(r) ?? answer;
      r.answered = answer.status;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body ?? '');
    });
  };
  const t = opts.tls;
  const server: Server = t
    ? createHttps({ key: t.key, cert: t.cert, ...(t.ca && { ca: t.ca, requestCert: true, rejectUnauthorized: true }) }, handler)
    : createHttp(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  owner.after(() => void close());
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    violations,
    script: (f) => (scripted = f),
    waitFor: async (cond, what = 'requests at the receiver', timeoutMs = 15_000) => {
      await waitFor(() => cond(requests), {
        timeoutMs,
        what: () => `${what}; got ${requests.length}: ${requests.map((r) => r.text.slice(0, 200)).join(' | ')}`,
      });
    },
    close,
  };
}

function fail(what: string): never {
  throw new Error(what);
}

// ---- Elasticsearch _bulk (https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html)

export interface BulkAction {
  action: 'index' | 'create';
  index: string;
  id: string | undefined;
  doc: Record<string, unknown>;
}

/** POST /_bulk, application/x-ndjson, action + source pairs, a final newline; 200 with one item per action. */
export const checkBulk: Check = (r) => {
  if (r.method !== 'POST' || !r.path.endsWith('/_bulk')) fail(`expected POST .../_bulk, found ${r.method} ${r.path}`);
  if (!String(r.headers['content-type']).startsWith('application/x-ndjson'))
    fail(`bulk content-type must be application/x-ndjson, found ${r.headers['content-type']}`);
  if (!r.text.endsWith('\n')) fail('the bulk request must be terminated by a newline [\\n]');
  const lines = r.text.slice(0, -1).split('\n');
  if (lines.length % 2) fail(`action/source lines must come in pairs, found ${lines.length} lines`);
  const actions: BulkAction[] = [];
  for (let i = 0; i < lines.length; i += 2) {
    const a = JSON.parse(lines[i]!) as Record<string, { _index?: string; _id?: string }>;
    const keys = Object.keys(a);
    if (keys.length !== 1 || (keys[0] !== 'index' && keys[0] !== 'create')) fail(`malformed action/metadata line [${i + 1}]: ${lines[i]}`);
    const meta = a[keys[0]!]!;
    if (typeof meta._index !== 'string' || !meta._index) fail(`action line ${i + 1} has no _index`);
    if (meta._index !== meta._index.toLowerCase()) fail(`invalid_index_name_exception: must be lowercase: ${meta._index}`);
    actions.push({ action: keys[0] as 'index', index: meta._index, id: meta._id, doc: JSON.parse(lines[i + 1]!) as Record<string, unknown> });
  }
  return {
    parsed: actions,
    answer: bulkAnswer(
      actions.map(() => 201),
      actions,
    ),
  };
};

/** The bulk answer for these item statuses (errors as Elasticsearch words them). */
export function bulkAnswer(statuses: number[], actions: BulkAction[]): Answer {
  const items = actions.map((a, i) => {
    const status = statuses[i]!;
    const item: Record<string, unknown> = { _index: a.index, _id: a.id ?? `auto${i}`, status };
    if (status < 300) Object.assign(item, { _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 } });
    else if (status === 429) item.error = { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' };
    else if (status === 409) item.error = { type: 'version_conflict_engine_exception', reason: `[${a.id}]: version conflict, document already exists` };
    else item.error = { type: 'mapper_parsing_exception', reason: 'failed to parse field [level] of type [long] in document' };
    return { [a.action]: item };
  });
  return { status: 200, body: JSON.stringify({ took: 3, errors: statuses.some((s) => s >= 300), items }) };
}

// ---- Loki push (https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs)

export interface LokiStream {
  stream: Record<string, string>;
  values: [string, string][];
}

/** POST /loki/api/v1/push, JSON {streams:[{stream:{labels}, values:[[ns string, line]]}]}, sorted per stream; 204. */
export const checkLoki: Check = (r) => {
  if (r.method !== 'POST' || r.path !== '/loki/api/v1/push') fail(`expected POST /loki/api/v1/push, found ${r.method} ${r.path}`);
  if (r.headers['content-type'] !== 'application/json') fail(`content-type must be application/json, found ${r.headers['content-type']}`);
  const body = JSON.parse(r.text) as { streams?: LokiStream[] };
  if (!Array.isArray(body.streams) || !body.streams.length) fail('no streams');
  for (const s of body.streams) {
    const labels = Object.entries(s.stream ?? {});
    if (!labels.length) fail('error at least one label pair is required per stream');
    for (const [k, v] of labels) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k)) fail(`invalid label name ${k}`);
      if (typeof v !== 'string' || !v) fail(`label ${k} must be a non-empty string`);
    }
    let prev = -1n;
    for (const e of s.values) {
      if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'string')
        fail(`an entry must be [ "<ns>", "<line>" ], found ${JSON.stringify(e)}`);
      if (!/^\d+$/.test(e[0])) fail(`timestamp must be a string of nanoseconds, found ${e[0]}`);
      const t = BigInt(e[0]);
      if (t < prev) fail(`entry out of order for stream ${JSON.stringify(s.stream)}`);
      prev = t;
    }
  }
  return { parsed: body.streams, answer: { status: 204 } };
};

// ---- OTLP/HTTP JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding)

const ANY_VALUE_KEYS = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue']);
const LOG_RECORD_KEYS = new Set([
  'timeUnixNano',
  'observedTimeUnixNano',
  'severityNumber',
  'severityText',
  'body',
  'attributes',
  'droppedAttributesCount',
  'flags',
  'traceId',
  'spanId',
  'eventName',
]);

function checkAnyValue(v: unknown, where: string): void {
  if (typeof v !== 'object' || v === null) fail(`${where}: AnyValue must be an object`);
  const keys = Object.keys(v);
  if (keys.length > 1 || (keys.length === 1 && !ANY_VALUE_KEYS.has(keys[0]!))) fail(`${where}: not an AnyValue: ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  if ('intValue' in o && (typeof o.intValue !== 'string' || !/^-?\d+$/.test(o.intValue))) fail(`${where}: int64 intValue must be a decimal string`);
  if ('arrayValue' in o) {
    const values = (o.arrayValue as { values: unknown[] }).values;
    for (let i = 0; i < values.length; i++) checkAnyValue(values[i], `${where}[${i}]`);
  }
  if ('kvlistValue' in o) checkKeyValues((o.kvlistValue as { values: unknown }).values, where);
}

function checkKeyValues(kvs: unknown, where: string): void {
  if (!Array.isArray(kvs)) fail(`${where}: attributes must be a list of {key, value}`);
  for (const kv of kvs as { key: unknown; value: unknown }[]) {
    if (typeof kv.key !== 'string') fail(`${where}: attribute key must be a string`);
    checkAnyValue(kv.value, `${where}.${kv.key}`);
  }
}

export interface OtlpRequest {
  resourceLogs: {
    resource: { attributes: { key: string; value: Record<string, unknown> }[] };
    scopeLogs: { scope: { name: string; version: string }; logRecords: Record<string, unknown>[] }[];
  }[];
}

/** POST /v1/logs, application/json, the JSON mapping of ExportLogsServiceRequest; 200 {}. */
export const checkOtlp: Check = (r) => {
  if (r.method !== 'POST' || r.path !== '/v1/logs') fail(`expected POST /v1/logs, found ${r.method} ${r.path}`);
  if (r.headers['content-type'] !== 'application/json') fail(`content-type must be application/json, found ${r.headers['content-type']}`);
  const body = JSON.parse(r.text) as OtlpRequest;
  if (Object.keys(body).join() !== 'resourceLogs') fail(`unknown top-level fields: ${Object.keys(body).join()}`);
  for (const rl of body.resourceLogs) {
    checkKeyValues(rl.resource.attributes, 'resource');
    for (const sl of rl.scopeLogs) {
      for (const lr of sl.logRecords) {
        for (const k of Object.keys(lr)) if (!LOG_RECORD_KEYS.has(k)) fail(`unknown LogRecord field ${k} (lowerCamelCase expected)`);
        for (const k of ['timeUnixNano', 'observedTimeUnixNano']) {
          if (k in lr && (typeof lr[k] !== 'string' || !/^\d+$/.test(lr[k] as string)))
            fail(`${k} must be a fixed64 as a decimal string, found ${JSON.stringify(lr[k])}`);
        }
        if ('severityNumber' in lr && !Number.isInteger(lr.severityNumber)) fail('severityNumber must be an enum number');
        if ('traceId' in lr && !/^[0-9a-f]{32}$/.test(lr.traceId as string)) fail('traceId must be 32 hex characters');
        if ('spanId' in lr && !/^[0-9a-f]{16}$/.test(lr.spanId as string)) fail('spanId must be 16 hex characters');
        checkAnyValue(lr.body, 'body');
        checkKeyValues(lr.attributes ?? [], 'attributes');
      }
    }
  }
  return { parsed: body, answer: { status: 200, body: '{}' } };
};
