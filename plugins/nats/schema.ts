import { tlsSchema } from '../../core/transport/index.js';

export const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['stream'],
  properties: {
    servers: {
      type: 'array',
      items: { type: 'string', pattern: '^(nats|tls)://[^\\s/]+$' },
      minItems: 1,
      default: ['nats://127.0.0.1:4222'],
      description:
        'NATS servers to connect to (nats://host:port, or tls://host:port for TLS; all of one kind); the client picks one and fails over to the others, reconnecting for ever.',
      examples: [['nats://10.0.0.5:4222', 'nats://10.0.0.6:4222']],
    },
    subject: {
      type: 'string',
      template: true,
      minLength: 1,
      default: 'logs.${tag}',
      description:
        'Subject each record is published to: a template (${tag}, ${host}, ${path}, ${cid}, a metadata or body field, ${env:NAME}). Spaces and the wildcards * and > in a rendered subject become "_".',
    },
    stream: {
      type: 'string',
      pattern: '^[^\\s.*>/\\\\]+$',
      description:
        'JetStream stream that must store the records. Checked at start (missing: the agent does not start, unless create_stream); every publish expects it, so a subject another stream captures is refused instead of landing elsewhere.',
    },
    create_stream: {
      type: 'boolean',
      default: false,
      description:
        'Create the stream at start when it is missing (file storage, default limits, subjects: the subject template with its placeholders replaced by ">" from the first one on, e.g. logs.>). Off: a missing stream is a start error.',
    },
    format: {
      enum: ['line', 'json'],
      default: 'line',
      description:
        "Message payload. line: the record's line as the service wrote it (object records: their `log`/`message` field, else JSON); json: one JSON object with time, tag and the fields.",
    },
    user: { type: 'string', default: '', description: 'User name for user/password authentication (with password).' },
    password: { type: 'string', default: '', description: 'Password for user (write ${NATS_PASSWORD} to keep it out of the file).' },
    token: { type: 'string', default: '', description: 'Token authentication.' },
    creds_file: {
      type: 'string',
      default: '',
      description: 'Credentials file (JWT and nkey seed, as `nsc` writes it) for decentralized authentication; relative to the config file.',
    },
    nkey_file: { type: 'string', default: '', description: 'File holding an nkey seed (SU...) for nkey authentication; relative to the config file.' },
    tls: {
      ...tlsSchema,
      description:
        "TLS to the servers: used with tls:// servers, or with nats:// ones when any tls option is given (the server must have TLS on). The `tls` map of the link transports: the server's certificate is checked against ca_file (empty: the system CAs), crt_file/key_file is the client certificate for a server that verifies clients (tlsverify). Relative paths resolve against the config file directory; the files are read again at every connection and reload.",
    },
    max_inflight: {
      type: 'integer',
      minimum: 1,
      maximum: 65536,
      default: 4096,
      description: 'Messages published and not yet acknowledged by JetStream, over all chunks; when reached, publishing waits for acks.',
    },
    publish_timeout: {
      unit: 'duration',
      default: '10s',
      description: "How long to wait for JetStream's ack of a message (and for a connection, when the server is down) before the chunk is retried.",
    },
    connect_timeout: {
      unit: 'duration',
      default: '3s',
      description:
        'How long start waits for the first connection (capped below service.grace). A server that is down then does not stop the agent: it keeps connecting and the records wait in the buffer.',
    },
    reconnect_wait: { unit: 'duration', default: '1s', description: 'Delay between reconnect attempts to a server (with jitter).' },
  },
} as const;
