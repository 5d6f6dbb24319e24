import { checkEndpoint, tlsSchema, type TlsOptions } from '../../core/transport/index.js';

export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    connect: {
      type: 'string',
      default: '',
      description:
        'Connect to the receiver at this address: vsock://CID:PORT, unix:///path.sock, tcp://host:port, tls://host:port (with tls) or vsock+unix:///path/v.sock:PORT. Give exactly one of connect and listen.',
      examples: ['vsock://3:24224', 'unix:///run/qlog/forward.sock'],
    },
    listen: {
      type: 'string',
      default: '',
      description:
        "Listen at this address and send to the receiver that connects (qlog's layout: the enclave listens, the parent connects; the newest connection wins). Same address forms as connect; vsock://any:PORT listens on every CID.",
      examples: ['vsock://any:24224'],
    },
    tls: tlsSchema,
    upstream: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description:
        'Several receivers, each dialled like connect (its own connection, window of max_inflight and reconnect backoff); chunks go to the nodes that are up, as balance says, and the chunks a lost node had not acknowledged go to another node with the same ids. Give exactly one of connect, listen and upstream.',
      examples: [['tcp://10.0.0.5:24224', 'tcp://10.0.0.6:24224', 'tcp://10.0.0.7:24224']],
    },
    balance: {
      type: 'string',
      enum: ['failover', 'round_robin'],
      default: 'failover',
      description:
        "With upstream: failover sends to the first node that is up in list order (and comes back to an earlier node once the chunks in flight are acknowledged); round_robin spreads the tags over the nodes that are up, a tag moving to the next node whenever it has nothing unacknowledged. Either way each receiver gets a source's chunks in order, which rotated-file's src/seq marks need.",
    },
    shared_key: {
      type: 'string',
      default: '',
      description:
        "Forward protocol shared_key: answer the receiver's HELO with PING and check its PONG. Empty: no handshake (the receiver must not require one).",
    },
    username: {
      type: 'string',
      default: '',
      description:
        "With shared_key: the user to give a receiver that has users (qlog vsock users, Fluentd <user>, Fluent Bit security.users). Sent only when the receiver's HELO asks for one; empty: an empty name, as Fluent Bit and Fluentd do.",
    },
    password: { type: 'string', default: '', description: 'The password of username (only a salted sha512 digest travels).' },
    self_hostname: { type: 'string', default: '', description: 'Hostname sent in PING. Empty: the service hostname.' },
    compress: {
      type: 'string',
      enum: ['none', 'gzip'],
      default: 'none',
      description: 'gzip sends CompressedPackedForward frames (less link traffic, more CPU in the enclave).',
    },
    require_ack: {
      type: 'boolean',
      default: true,
      description:
        'Ask the receiver for {ack: chunk} and report a chunk delivered only then (end-to-end delivery). false: a chunk counts as delivered once written to the socket (may lose data on a reset).',
    },
    max_frame_size: {
      unit: 'size',
      default: '1MiB',
      description:
        "Largest Forward message sent: a bigger chunk goes as several messages (chunk ids <id>.0, <id>.1 ...). Keep it at or below the receiver's limit (qlog vsock: max_frame_size, 16MiB; Fluent Bit in_forward: buffer_max_size). A single record bigger than this is dropped (counted as records_too_large). Over unix, tcp and hybrid connections it is also the send buffer asked of the kernel, so a whole message is written at once (Linux caps it at net.core.wmem_max).",
    },
    workers: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      default: 2,
      description:
        'Chunks the core hands over at once (the common output option, with a pipelining default): they are sent back to back, in order, and each resolves when its ack arrives, so the link is not idle during ack round trips.',
    },
    buffer_limit: {
      unit: 'size',
      default: '2MiB',
      description:
        "The common output option, with an enclave-sized default: memory of the lines queued or in flight here (tail's lines are kept as bytes: their size plus ~13 bytes each). When full, the inputs pause and the log files are the buffer.",
    },
    flush_max_size: {
      unit: 'size',
      default: '512KiB',
      description: 'The common output option, sized so one flush fits one Forward message of max_frame_size (1MiB) with its framing.',
    },
    max_inflight: {
      unit: 'size',
      default: '2MiB',
      description: 'Encoded bytes sent and not yet acknowledged; when reached, further flushes wait (backpressure to the inputs).',
    },
    max_inflight_chunks: { type: 'integer', minimum: 1, default: 64, description: 'Chunks sent and not yet acknowledged; when reached, further flushes wait.' },
    connect_timeout: { unit: 'duration', default: '10s', description: 'Time allowed to connect and to complete the shared_key handshake.' },
    reconnect_base: {
      unit: 'duration',
      default: '500ms',
      description: 'First delay before reconnecting after a failed or lost connection (connect mode); doubles each attempt, with jitter.',
    },
    reconnect_max: { unit: 'duration', default: '30s', description: 'Longest delay between reconnect attempts.' },
    heartbeat: {
      unit: 'duration',
      default: '5s',
      description:
        'After this long without sending, send a heartbeat (an empty Forward message that asks for an ack); a qlog receiver drops a peer silent for 3 intervals. 0: off.',
    },
    seal: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        "Seal records in the enclave (docs/sealing.md): each chunk's records of one source leave as one unit encrypted with age to the recipients (and signed with signing_key_file), so the parent relays and stores them without being able to read, drop, reorder or edit them unnoticed; `qlog open` decrypts and checks them. On when recipients or recipients_file is given. Relative paths resolve against the config file's directory.",
      properties: {
        recipients: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description: 'age X25519 public keys (age1...) the units are encrypted to; any one of their identities opens them (qlog keygen, or age-keygen).',
          examples: [['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p']],
        },
        recipients_file: {
          type: 'string',
          default: '',
          description: "A file of age recipients, one per line (age's recipients file: # comments and blank lines are skipped); added to recipients.",
        },
        signing_key_file: {
          type: 'string',
          default: '',
          description:
            'An Ed25519 private key (qlog keygen --sign) the units are signed with, so an opener that has its public key knows who sealed them. Empty: units are not signed.',
        },
        attestation_command: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description:
            "With signing_key_file: a command (program and arguments) that prints the platform's attestation document binding the signing public key (given as 64 hex digits in QLOG_SEAL_PUBLIC_KEY and as 32 bytes on stdin); run once at start, the document travels in each stream's first unit. Empty: none.",
        },
      },
    },
    ack_timeout: {
      unit: 'duration',
      default: '60s',
      description: "Drop the connection and resend (same chunk ids) when an ack is this late. Must exceed the longest stall of the receiving side's outputs.",
    },
  },
} as const;

/** Exactly one of connect, listen and upstream; every upstream node a valid connect address. */
export function checkLinkEnds(o: {
  connect: string;
  listen: string;
  upstream: readonly string[];
  tls?: TlsOptions;
}): { key: string; message: string } | undefined {
  if (!o.upstream.length) return checkEndpoint(o);
  if (o.connect || o.listen)
    return { key: 'upstream', message: `give either upstream or ${o.connect ? 'connect' : 'listen'}, not both (upstream is the form for several receivers)` };
  for (const [i, a] of o.upstream.entries()) {
    const e = checkEndpoint({ connect: a, listen: '', tls: o.tls });
    if (e) return { key: 'upstream', message: `node ${i} (${a}): ${e.message}` };
  }
  if (new Set(o.upstream).size !== o.upstream.length) return { key: 'upstream', message: 'expected distinct addresses, found one twice' };
  return undefined;
}

/** Sealing needs recipients; its units do not compress. */
export function checkSeal(o: {
  seal: { recipients: readonly string[]; recipients_file: string; signing_key_file: string; attestation_command: readonly string[] };
  compress: string;
}): { key: string; message: string } | undefined {
  const s = o.seal;
  const on = s.recipients.length > 0 || s.recipients_file !== '';
  if (s.attestation_command.length && !s.signing_key_file)
    return { key: 'seal.attestation_command', message: 'expected signing_key_file with attestation_command (the document binds the signing key), found none' };
  if (!on && s.signing_key_file)
    return { key: 'seal', message: 'expected recipients or recipients_file with signing_key_file (units are signed and encrypted), found neither' };
  if (on && o.compress !== 'none')
    return { key: 'compress', message: `expected compress: none with seal (sealed units are encrypted: they do not compress), found ${o.compress}` };
  return undefined;
}

/** username/password travel in the shared_key handshake: without a key there is none. */
export function checkCredentials(o: { shared_key: string; username: string; password: string }): { key: string; message: string } | undefined {
  if ((o.username || o.password) && !o.shared_key)
    return {
      key: o.username ? 'username' : 'password',
      message: 'username and password travel in the shared_key handshake: set shared_key too (Fluent Bit and Fluentd ask the same)',
    };
  return undefined;
}
