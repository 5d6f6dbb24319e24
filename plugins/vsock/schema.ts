import { tlsSchema } from '../../core/transport/index.js';

export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: {
      type: 'string',
      default: '',
      description:
        'Accept senders at this address: vsock://any:PORT (or vsock://CID:PORT), unix:///path.sock, tcp://host:port, tls://host:port (with tls), or vsock+unix:///path/v.sock:PORT (binds <path>_<PORT>, where a Firecracker-style VMM delivers guest connections). Give exactly one of listen and connect.',
      examples: ['vsock://any:24224', 'tcp://0.0.0.0:24224'],
    },
    connect: {
      type: 'string',
      default: '',
      description:
        "Connect to a listening sender (qlog's layout: the enclave listens, the parent connects), and reconnect with backoff whenever the connection is lost. Same address forms as listen.",
      examples: ['vsock://16:24224', 'vsock+unix:///run/fc/v.sock:24224'],
    },
    shared_key: {
      type: 'string',
      default: '',
      description: 'Require the Forward protocol HELO/PING/PONG handshake with this key; a peer with another key is dropped. Empty: no handshake.',
    },
    users: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          username: { type: 'string', description: 'The name the sender gives in PING.' },
          password: { type: 'string', description: 'Its password (only a salted sha512 digest travels).' },
        },
        required: ['username', 'password'],
        additionalProperties: false,
      },
      default: [],
      description:
        'With shared_key: senders must also give one of these users (Fluentd\'s <user>, Fluent Bit\'s security.users), e.g. [{username: alice, password: s3cret}]; a sender with another name or password is refused ("username/password mismatch"). Empty: no users asked.',
    },
    self_hostname: { type: 'string', default: '', description: 'Hostname sent in PONG. Empty: the service hostname.' },
    allowed_cids: {
      type: 'array',
      items: { type: 'integer', minimum: 0, maximum: 4294967295 },
      default: [],
      description: 'vsock peers allowed to connect (by CID); others are refused on accept. Empty: any CID. Does not apply to unix/tcp peers.',
    },
    allowed_subjects: {
      type: 'array',
      items: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9.]*=' },
      default: [],
      description:
        "tls:// peers allowed, by their verified certificate's subject: an entry matches when the subject has each attribute it names (CN=enclave-1 matches CN=enclave-1,O=Acme); others are refused before a byte is read. Needs tls.ca_file (listen) or verify (connect). Empty: any peer whose certificate verifies.",
      examples: [['CN=enclave-1', 'CN=enclave-2']],
    },
    tls: tlsSchema,
    max_frame_size: {
      unit: 'size',
      default: '16MiB',
      description: 'Largest Forward message accepted; a peer sending a bigger one is dropped before it is buffered.',
    },
    max_connections: { type: 'integer', minimum: 1, default: 64, description: 'Connections accepted at once (listen mode); further ones are refused.' },
    peer_buffer_limit: {
      unit: 'size',
      default: '2MiB',
      description:
        "Fair service: memory of one connection's records emitted and not yet settled (line bytes + ~160 bytes per record, as outputs count buffer_limit). A connection over it stops being read alone (backpressure reaches that sender only) while the others keep flowing; when downstream is full, the least loaded connections are read first. Default: a quarter of an output's default buffer_limit. 0: off.",
    },
    peer_metrics_retention: {
      unit: 'duration',
      default: '5m',
      description:
        'How long a peer\'s series (qlog_input_peer_*{peer="cid:16"}) stay in the metrics after its last connection closed; at most max_connections closed peers are kept. 0: dropped at once.',
    },
    tag_prefix: { type: 'string', pattern: '^[A-Za-z0-9._-]*$', default: '', description: 'Prepended to every tag received (after the tag is validated).' },
    dedupe_window: {
      type: 'integer',
      minimum: 0,
      default: 10000,
      description: 'Chunk ids remembered per sender, so a chunk resent after a lost ack is acked again without being delivered twice. 0: off.',
    },
    connect_timeout: {
      unit: 'duration',
      default: '10s',
      description:
        'Time allowed to connect (connect mode) and to complete the shared_key handshake. A peer that sends no complete message within this time of connecting, or leaves a message incomplete for longer (while we are reading), is dropped: idle or trickling peers cannot hold a connection slot.',
    },
    reconnect_base: { unit: 'duration', default: '500ms', description: 'First reconnect delay (connect mode); doubles each attempt, with jitter.' },
    reconnect_max: { unit: 'duration', default: '30s', description: 'Longest reconnect delay.' },
    unseal: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        "Open sealed units (vsock-forward seal:, docs/sealing.md) on a trusted aggregator: each unit is decrypted, its signature and chain checked per sender and stream, and its records are emitted as plain records. A unit that fails a check is counted (unseal_<kind>) and logged; one that cannot be authenticated is not delivered. On when identity_file is given. A sender whose units no key opens is held back (not acked) until one does: see docs/sealing.md. Relative paths resolve against the config file's directory.",
      properties: {
        identity_file: {
          type: 'string',
          default: '',
          description: 'age identity file (qlog keygen, or age-keygen: AGE-SECRET-KEY-1... lines) whose key the units were sealed to.',
        },
        verify_key_files: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description:
            'Ed25519 public keys (PEM, or the line ed25519:<base64>) of the enclaves allowed to seal: given, every unit must be signed by one of them, else it is not delivered. Empty: signatures are checked against the key the unit names, and unsigned units are accepted.',
        },
        plain_records: {
          type: 'string',
          enum: ['drop', 'pass'],
          default: 'drop',
          description:
            'Records that are not sealed units: drop (counted as unseal_plain_dropped, warned about, acked so the sender moves on): an input that unseals expects sealed units, and whoever relays them could otherwise inject records with any text, src and seq. pass: emit them as they are (counted as unseal_plain_records), for an aggregator that also receives from senders that do not seal.',
        },
      },
    },
  },
} as const;

/** unseal: the keys parse (for the file:line:column of a bad file). */
export type UnsealOptions = { identity_file: string; verify_key_files: readonly string[]; plain_records?: 'drop' | 'pass' };

/** users are checked in the shared_key handshake: without a key there is none. */
export function checkUsers(o: { shared_key: string; users: readonly unknown[] }): { key: string; message: string } | undefined {
  if (o.users.length > 0 && !o.shared_key)
    return { key: 'users', message: 'users are checked in the shared_key handshake: set shared_key too (Fluent Bit and Fluentd ask the same)' };
  return undefined;
}
