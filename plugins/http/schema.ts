import { tlsSchema } from '../../core/transport/index.js';

export const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: {
      type: 'string',
      minLength: 1,
      description:
        "Where requests go: http:// or https://. A URL without a path gets the format's endpoint: /_bulk (elasticsearch), /loki/api/v1/push (loki), /v1/logs (otlp).",
      examples: ['https://es.example:9200', 'http://loki:3100', 'http://otel-collector:4318'],
    },
    format: {
      enum: ['json_lines', 'json', 'elasticsearch', 'loki', 'otlp'],
      default: 'json_lines',
      description:
        'Wire format: json_lines (NDJSON, one object per line), json (one array), elasticsearch (the _bulk API; OpenSearch too), loki (the push API), otlp (OTLP/HTTP JSON logs).',
    },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      default: {},
      description: 'Extra request headers, e.g. { X-Scope-OrgID: tenant-1 } for a multi-tenant Loki. ${VAR} is read from the environment.',
    },
    compress: { enum: ['none', 'gzip'], default: 'none', description: 'gzip: send the body gzip-compressed (Content-Encoding: gzip).' },
    auth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Credentials: { type: basic, user: U, password: P } or { type: bearer, token: T }; ${VAR} is read from the environment.',
      properties: {
        type: { enum: ['none', 'basic', 'bearer'], default: 'none', description: 'none, basic (Authorization: Basic) or bearer (Authorization: Bearer).' },
        user: { type: 'string', default: '', description: 'basic: the user name.' },
        password: { type: 'string', default: '', description: 'basic: the password.' },
        token: { type: 'string', default: '', description: 'bearer: the token.' },
      },
    },
    tls: {
      ...tlsSchema,
      description:
        "TLS of an https:// url (an error with http://), the `tls` map of the link transports: the server's certificate is checked against ca_file (empty: the system CAs), crt_file/key_file is the client certificate for mutual TLS. Relative paths resolve against the config file directory; the files are read again on every reload (SIGHUP).",
    },
    batch_size: {
      unit: 'size',
      default: '4MiB',
      description:
        "Largest request body before compression: a bigger flush is sent as several requests, in order. Keep it under the server's limit (Elasticsearch http.max_content_length 100MB, 5-15MB recommended; Loki grpc_server_max_recv_msg_size 4MB by default).",
    },
    batch_wait: {
      unit: 'duration',
      default: '0s',
      description:
        'How long a flush waits for other flushes to join its request (with workers > 1; batch_size sends at once). 0: send at once (queued chunks are still merged up to flush_max_size).',
    },
    timeout: { unit: 'duration', default: '30s', description: 'Time allowed for one request, from connecting to the end of the response; then it is retried.' },
    max_retry_after: {
      unit: 'duration',
      default: '5m',
      description: 'Longest wait a Retry-After header of a 429 or 503 response may impose before the next request (longer values are cut to this).',
    },
    index: {
      type: 'string',
      template: true,
      minLength: 1,
      default: 'qlog-${tag}',
      description:
        'elasticsearch: the index (or data stream) of each record, a template: ${tag}, ${host}, ${path} ... and the record date as %Y %m %d %H (UTC), e.g. logs-${tag}-%Y.%m.%d.',
    },
    bulk_action: {
      enum: ['index', 'create'],
      default: 'index',
      description:
        'elasticsearch: index (a resent record with the same _id overwrites itself) or create (required by data streams; a resent record is answered 409 and counts as delivered).',
    },
    id_key: {
      type: 'boolean',
      default: true,
      description:
        'elasticsearch: give each document the _id "<src>:<seq>" when the record has meta.src and meta.seq (resends do not duplicate). false: Elasticsearch makes ids.',
    },
    labels: {
      type: 'string',
      template: true,
      default: 'job=qlog,tag=${tag},host=${host}',
      description:
        'loki: the stream labels, comma-separated name=template pairs (${tag}, ${host}, ${path}, ${cid}, body fields ...). Labels that render empty are left out; keep them few and of low cardinality.',
    },
    service_name: { type: 'string', default: 'qlog', description: 'otlp: the service.name resource attribute.' },
    time_key: {
      type: 'string',
      default: '',
      description:
        'json_lines, json, elasticsearch: field of the record time (RFC 3339, nanoseconds, UTC). Empty: date (json formats), @timestamp (elasticsearch).',
    },
    tag_key: { type: 'string', default: 'tag', description: 'json_lines, json, elasticsearch: field of the tag. Empty: no tag field.' },
    include_meta: {
      type: 'boolean',
      default: false,
      description: 'json_lines, json, elasticsearch: add the record metadata (path, cid, src, seq ...) under "meta".',
    },
  },
} as const;
