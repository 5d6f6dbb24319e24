/**
 * Every message qlog shows a user, keyed by message id. An id is its error code
 * (`QLOG_ERR_AREA_WHAT`), or the code and a variant (`QLOG_ERR_AREA_WHAT/variant`) when one code
 * covers situations that need different words: the code stays what users and programs match on,
 * the variant picks the text. `{name}` is a placeholder; `${...}` is literal text (qlog's own
 * template syntax, shown in messages about templates). docs/errors.md lists every message under
 * its code; test/core/errors.test.ts keeps the two in step.
 */
export const ERRORS = {
  // ---- configuration (core/config, core/qlog-compat): file:line:column issues
  QLOG_ERR_CONFIG: '{issues}',
  QLOG_ERR_CONFIG_READ: 'cannot read config file {file}: {reason}',
  QLOG_ERR_CONFIG_YAML: 'YAML syntax error: {reason}',
  QLOG_ERR_CONFIG_TYPE: 'expected {expected}, found {found}',
  QLOG_ERR_CONFIG_UNKNOWN_KEY: 'unknown key "{key}"{hint}; allowed keys: {allowed}',
  QLOG_ERR_CONFIG_REQUIRED: 'missing required option "{key}"{about}; add "{key}: ..." here',
  'QLOG_ERR_CONFIG_REQUIRED/plugin-name': 'missing the {kind} plugin\'s "name" (one of: {available})',
  'QLOG_ERR_CONFIG_REQUIRED/monitor-path': 'missing "monitor_path" (the log file to follow inside the enclave), required for monitor_type: file',
  QLOG_ERR_CONFIG_UNIT: 'expected {expected}, found {found}',
  QLOG_ERR_CONFIG_ENUM: 'expected one of {allowed}, found {found}{hint}',
  QLOG_ERR_CONFIG_VALUE: 'expected {expected}, found {found}',
  /** A plugin's own cross-field check (definePlugin `check`): the words are the plugin's. */
  'QLOG_ERR_CONFIG_VALUE/check': '{reason}',
  'QLOG_ERR_CONFIG_VALUE/item-name': 'two items are named "{name}" (also monitor_items[{other}]); names must be unique',
  'QLOG_ERR_CONFIG_VALUE/item-output': 'two items write "{file}" (also monitor_items[{other}]); give each item its own outputfile',
  'QLOG_ERR_CONFIG_VALUE/output-outside': 'expected a file name inside the workspace, found {found} (no absolute path, no "..")',
  'QLOG_ERR_CONFIG_VALUE/output-is-log': '"{file}" is also client_logfile (receive-file\'s own log); choose another name',
  'QLOG_ERR_CONFIG_VALUE/two-intervals': 'give monitor_internel or monitor_interval, not both',
  'QLOG_ERR_CONFIG_VALUE/interval': 'expected an interval of at least 100ms, found {ms}ms',
  QLOG_ERR_CONFIG_ENV: 'environment variable {name} is not set (write ${{name}:-default} to give a default)',
  QLOG_ERR_CONFIG_UNKNOWN_PLUGIN: 'unknown {kind} plugin "{name}"{hint}; available: {available}',
  QLOG_ERR_CONFIG_QLOG_FORMAT:
    'this is a qlog config (it has {keys}), not a native one: run it as qlog does, "qlog monitor {file}" in the enclave or "qlog receive-file <cid> {file}" on the parent, or convert it with "qlog migrate {file}"',
  QLOG_ERR_CONFIG_DUPLICATE_ID: 'two plugin instances are named "{id}"; give one a different alias',

  // ---- plugins (core/plugin/loader.ts, registry.ts, core/engine)
  QLOG_ERR_PLUGIN_NOT_FOUND: 'plugin package "{spec}" not found (looked in {where}); install it with: npm install {pkg}',
  QLOG_ERR_PLUGIN_LOAD: 'cannot load plugin "{spec}": {reason}',
  'QLOG_ERR_PLUGIN_LOAD/json': 'cannot load plugin "{spec}": {file} is not valid JSON: {reason}',
  'QLOG_ERR_PLUGIN_LOAD/exports':
    'cannot load plugin "{spec}": the "exports" of {file} have no entry for "{subpath}" with an import, require or default condition',
  'QLOG_ERR_PLUGIN_LOAD/entry':
    'cannot load plugin "{spec}": its entry {file} does not exist (a TypeScript package must be built before it is used: run "npm run build" in {root}, or install the published package)',
  'QLOG_ERR_PLUGIN_LOAD/no-file':
    'cannot load plugin "{spec}": no such file (looked for {candidates}; relative paths start from the config file\'s directory, then the working directory)',
  'QLOG_ERR_PLUGIN_LOAD/peer-qlog':
    'cannot load plugin "{spec}": {reason} (the plugin cannot resolve its peer dependency "qlog" from {dir}: install the plugin and qlog in the same project, e.g. npm install qlog <plugin>; a linked plugin folder needs its own node_modules/qlog)',
  'QLOG_ERR_PLUGIN_LOAD/dependency':
    'cannot load plugin "{spec}": {reason} (a dependency of the plugin is missing: run "npm install" in the plugin\'s package, or reinstall the plugin)',
  'QLOG_ERR_PLUGIN_LOAD/name':
    'cannot load plugin "{spec}": plugin name {name} must start with a lowercase letter and contain only lowercase letters, digits, "-" or "_"',
  'QLOG_ERR_PLUGIN_LOAD/setup': 'cannot load plugin "{spec}": plugin "{name}" has no setup function',
  'QLOG_ERR_PLUGIN_LOAD/range': 'cannot load plugin "{spec}": plugin "{name}": "qlog" must be a semver range such as "^{version}", found {found}',
  'QLOG_ERR_PLUGIN_LOAD/twice': 'cannot load plugin "{spec}": it is listed twice in service.plugins (also as "{other}"); remove one',
  QLOG_ERR_PLUGIN_BRAND: '"{spec}" does not export a qlog plugin (its default export must be made with definePlugin from "qlog")',
  QLOG_ERR_PLUGIN_VERSION: 'plugin "{name}" supports qlog {range}, but this is qlog {version}; upgrade qlog or install a plugin version made for it',
  QLOG_ERR_PLUGIN_KIND: 'plugin "{name}" has kind "{kind}"; expected input, filter or output',
  QLOG_ERR_PLUGIN_NAME_CLASH: 'plugin name "{name}" from {spec} clashes with {other}; rename one of them',
  QLOG_ERR_PLUGIN_SCHEMA: 'plugin "{name}" has an invalid options schema: {reason}',
  'QLOG_ERR_PLUGIN_SCHEMA/shape': 'plugin "{name}" has an invalid options schema: expected { type: "object", properties: {...}, additionalProperties: false }',
  'QLOG_ERR_PLUGIN_SCHEMA/additional':
    'plugin "{name}" has an invalid options schema: additionalProperties must be false (an unknown option is a config error)',
  QLOG_ERR_PLUGIN_SETUP: 'plugin instance {id} failed during {phase}: {reason}',
  'QLOG_ERR_PLUGIN_SETUP/no-flush': 'output plugin {name} ({id}) did not tap hooks.flush in setup',
  QLOG_ERR_PLUGIN_TIMEOUT: '{what} did not finish within {ms} ms',
  'QLOG_ERR_PLUGIN_TIMEOUT/import': 'importing {file} did not finish within {ms} ms (a top-level await that never settles?)',

  // ---- command line (core/cli, core/scaffold, core/qlog-compat/cli-options.ts); see UsageError
  QLOG_ERR_USAGE: '{reason}',
  'QLOG_ERR_USAGE/command': 'unknown command "{command}"{hint}; run "qlog --help" for the list',
  'QLOG_ERR_USAGE/option': 'unknown option "{option}"{hint}; this command takes: {allowed}',
  'QLOG_ERR_USAGE/one-config': 'expected one config file',
  'QLOG_ERR_USAGE/one-qlog-config': 'expected one qlog config file',
  'QLOG_ERR_USAGE/one-plugin-name': 'expected one plugin name',
  'QLOG_ERR_USAGE/missing-args': 'the following required arguments were not provided: {missing}',
  'QLOG_ERR_USAGE/unexpected-arg': "unexpected argument '{arg}'",
  'QLOG_ERR_USAGE/open-identity': '-i IDENTITY is required: an age identity file (from age-keygen, or identity.txt from "qlog keygen")',
  'QLOG_ERR_USAGE/open-files': 'expected at least one file of sealed units (the files rotated-file wrote, oldest first)',
  'QLOG_ERR_USAGE/unknown-plugin': 'unknown plugin {names}{hint}; available: {available}',
  'QLOG_ERR_USAGE/kind-required': '--kind is required (input, filter or output)',
  'QLOG_ERR_USAGE/kind': '--kind must be input, filter or output, found "{kind}"',
  'QLOG_ERR_USAGE/rate': '--rate: expected a number of lines per second (0 < N <= 10000), found "{found}"',
  'QLOG_ERR_USAGE/duration': '--duration: expected seconds, found "{found}"',
  'QLOG_ERR_USAGE/role': '--role: expected monitor or receive-file, found "{found}"',
  'QLOG_ERR_USAGE/cid': "invalid value '{value}' for '{option}': expected a CID (a number from 0 to 4294967295)",
  'QLOG_ERR_USAGE/transport': '--transport: {reason}',
  'QLOG_ERR_USAGE/package-name': '"{input}" is not a valid npm package name (lowercase letters, digits, "-", "_", ".", optionally @scope/)',
  'QLOG_ERR_USAGE/plugin-name': 'the plugin name "{name}" (from "{input}") must start with a letter and contain only lowercase letters, digits, "-" or "_"',
  'QLOG_ERR_USAGE/dir-not-empty': '{dir} exists and is not empty; choose another --dir, or add --force to overwrite the generated files',

  // ---- transports (core/transport): {uri} is the address as the user wrote it
  QLOG_ERR_TRANSPORT_ADDRESS: 'invalid transport address {uri}: expected {expected}, found {found} (example: {example})',
  'QLOG_ERR_TRANSPORT_ADDRESS/any': 'cannot connect to {uri}: "any" is only valid for listen (give the peer\'s CID, e.g. vsock://16:6000)',
  QLOG_ERR_TRANSPORT_REFUSED: 'connection to {uri} refused: nothing is listening there',
  'QLOG_ERR_TRANSPORT_REFUSED/no-socket': 'connection to {uri} failed: the socket file does not exist (is the peer running?)',
  'QLOG_ERR_TRANSPORT_REFUSED/vmm-closed': '{uri}: the VMM closed the connection after CONNECT (is anything listening on that vsock port in the guest?)',
  QLOG_ERR_TRANSPORT_TIMEOUT: 'connection to {uri} timed out after {ms} ms',
  QLOG_ERR_TRANSPORT_DENIED: 'connection to {uri} denied: no permission on the socket',
  'QLOG_ERR_TRANSPORT_DENIED/listen': 'cannot listen on {uri}: permission denied',
  QLOG_ERR_TRANSPORT_RESET: 'connection to {uri} was reset by the peer',
  QLOG_ERR_TRANSPORT_RESOLVE: 'cannot resolve the host of {uri} ({errno})',
  QLOG_ERR_TRANSPORT_CONNECT: 'connection to {uri} failed: {reason}',
  QLOG_ERR_TRANSPORT_IN_USE: 'cannot listen on {uri}: address already in use',
  'QLOG_ERR_TRANSPORT_IN_USE/not-socket': 'cannot listen on {uri}: the path exists and is not a socket (remove it or pick another path)',
  'QLOG_ERR_TRANSPORT_IN_USE/http': 'cannot serve metrics on {addr} (service.http_listen; --http-listen for monitor and receive-file): {reason}',
  'QLOG_ERR_TRANSPORT_IN_USE/unix': 'cannot listen on {uri}: another process is listening on it',
  QLOG_ERR_TRANSPORT_LISTEN: 'cannot listen on {uri}: {reason}',
  'QLOG_ERR_TRANSPORT_LISTEN/http': 'cannot serve metrics on {addr} (service.http_listen; --http-listen for monitor and receive-file): {reason}',
  QLOG_ERR_TRANSPORT_HYBRID: '{uri}: expected "OK <port>" in reply to "CONNECT {port}", found {found}',
  'QLOG_ERR_TRANSPORT_HYBRID/not-a-line': "{uri}: the VMM's reply to CONNECT is not a line ({bytes} bytes without a newline)",
  'QLOG_ERR_TRANSPORT_HYBRID/socket': '{uri}: {reason}',
  // ---- TLS (core/transport/tls.ts): what failed in a handshake, and where ({uri}: the address; {peer}: who connected)
  QLOG_ERR_TRANSPORT_TLS: 'TLS handshake with {uri} failed: {reason}',
  'QLOG_ERR_TRANSPORT_TLS/unknown-ca':
    "TLS handshake with {uri} failed: the peer's certificate ({subject}, issued by {issuer}) is not signed by a CA in {ca} ({code})",
  'QLOG_ERR_TRANSPORT_TLS/expired': "TLS handshake with {uri} failed: the peer's certificate ({subject}) expired on {date}",
  'QLOG_ERR_TRANSPORT_TLS/not-yet-valid': "TLS handshake with {uri} failed: the peer's certificate ({subject}) is not valid before {date} (check the clocks)",
  'QLOG_ERR_TRANSPORT_TLS/hostname':
    'TLS handshake with {uri} failed: the peer\'s certificate is for {names}, not "{host}"; connect by one of those names or set tls.server_name to one',
  'QLOG_ERR_TRANSPORT_TLS/not-tls': '{uri} does not speak TLS ({reason}); is the peer listening on tcp:// instead of tls://?',
  'QLOG_ERR_TRANSPORT_TLS/closed':
    '{uri} closed the connection during the TLS handshake: it does not speak TLS, or it refused our certificate (see its log; check tls.crt_file against its ca_file)',
  'QLOG_ERR_TRANSPORT_TLS/refused-cert': "{uri} refused our certificate ({alert}); tls.crt_file must be signed by a CA in the peer's ca_file, and valid",
  'QLOG_ERR_TRANSPORT_TLS/cert-required': '{uri} requires a client certificate (mutual TLS); set tls.crt_file and tls.key_file',
  'QLOG_ERR_TRANSPORT_TLS/version': 'TLS handshake with {uri} failed: no TLS version in common (ours: tls.min_version {min} and later; {reason})',
  'QLOG_ERR_TRANSPORT_TLS/no-client-cert':
    'refused {peer} on {uri}: it sent no client certificate (this listener requires one: tls.ca_file is set); give the client tls.crt_file and tls.key_file',
  'QLOG_ERR_TRANSPORT_TLS/client-unknown-ca': 'refused {peer} on {uri}: its certificate ({subject}, issued by {issuer}) is not signed by a CA in {ca} ({code})',
  'QLOG_ERR_TRANSPORT_TLS/client-expired': 'refused {peer} on {uri}: its certificate ({subject}) expired on {date}',
  'QLOG_ERR_TRANSPORT_TLS/client-invalid': 'refused {peer} on {uri}: its certificate ({subject}) failed verification ({code})',
  'QLOG_ERR_TRANSPORT_TLS/plaintext':
    'refused {peer} on {uri}: it does not speak TLS (a plaintext client? give the sender a tls:// address and the tls options)',
  'QLOG_ERR_TRANSPORT_TLS/client-handshake': 'refused {peer} on {uri}: TLS handshake failed: {reason}',
  'QLOG_ERR_TRANSPORT_TLS/handshake-timeout': 'refused {peer} on {uri}: no TLS handshake within {ms} ms',
  QLOG_ERR_TRANSPORT_TLS_FILE: 'cannot read tls.{key} {file}: {reason}',
  'QLOG_ERR_TRANSPORT_TLS_FILE/pem': 'tls.{key} {file} holds no PEM {what} (expected a "-----BEGIN {what}-----" block)',
  'QLOG_ERR_TRANSPORT_TLS_FILE/key': 'tls.key_file {file} is not a usable private key ({reason}); expected an unencrypted PEM private key',
  'QLOG_ERR_TRANSPORT_TLS_FILE/mismatch': 'tls.key_file {key} is not the private key of the certificate in tls.crt_file {crt}',

  // ---- AF_VSOCK (core/transport/vsock-native.ts, vsock.ts); {errno} is the system error name
  QLOG_ERR_VSOCK_UNAVAILABLE: 'the qlog vsock addon could not be loaded ({reason}); build it with "node native/build.mjs" (Linux with g++, make and python3)',
  'QLOG_ERR_VSOCK_UNAVAILABLE/transport':
    'vsock transport unavailable: {reason}. Use unix://, tcp:// or vsock+unix:// instead, or rebuild the addon (npm rebuild qlog)',
  'QLOG_ERR_VSOCK_UNAVAILABLE/kernel':
    'the kernel has no AF_VSOCK support ({syscall}: {reason}); load the vsock modules (vsock, vmw_vsock_virtio_transport / vhost_vsock)',
  'QLOG_ERR_VSOCK_UNAVAILABLE/no-device': 'no vsock device: /dev/vsock is missing; is the vhost_vsock / vmw_vsock module loaded?',
  'QLOG_ERR_VSOCK_UNAVAILABLE/device-denied': 'cannot open /dev/vsock: permission denied; run as root or give this user access to /dev/vsock',
  QLOG_ERR_VSOCK_ADDR_IN_USE: 'cannot listen on {uri}: the port is already in use; pick another port or stop the other listener',
  QLOG_ERR_VSOCK_REFUSED: 'connection to {uri} refused: nothing is listening on that port',
  'QLOG_ERR_VSOCK_REFUSED/unreachable': 'connection to {uri} failed: that CID is unreachable ({errno}); is the VM/enclave running?',
  QLOG_ERR_VSOCK_RESET: 'connection {uri} was reset by the peer ({errno} on {syscall})',
  QLOG_ERR_VSOCK_TIMEOUT: 'connection to {uri} timed out after {ms} ms',
  'QLOG_ERR_VSOCK_TIMEOUT/errno': 'connection to {uri} timed out ({errno})',
  QLOG_ERR_VSOCK_IO: '{syscall} on {uri} failed: {reason} ({errno})',
  'QLOG_ERR_VSOCK_IO/cid': 'cannot bind {uri}: that CID is not this machine\'s (use "any", or the local CID)',
  'QLOG_ERR_VSOCK_IO/denied': '{syscall} on {uri} denied ({errno}); ports below 1024 need root',
  'QLOG_ERR_VSOCK_IO/not-vsock': 'this server listens on {uri}, not on vsock',
  'QLOG_ERR_VSOCK_IO/not-listening': 'the server is not listening',
  'QLOG_ERR_VSOCK_IO/listening': 'this server is already listening on {uri}',

  // ---- Fluent Forward (core/forward)
  QLOG_ERR_FORWARD_FRAME_TOO_LARGE: 'frame larger than max_frame_size ({max} bytes)',
  'QLOG_ERR_FORWARD_FRAME_TOO_LARGE/at-least': 'frame larger than max_frame_size ({max} bytes): at least {size} bytes',
  QLOG_ERR_FORWARD_BAD_MSGPACK: 'invalid msgpack byte 0x{byte} at offset {offset} of a frame',
  QLOG_ERR_FORWARD_TOO_DEEP: 'msgpack nested deeper than {depth} levels',
  QLOG_ERR_FORWARD_PROTOCOL: 'expected an event message [tag, ...] of 2-4 elements, found {found}',
  'QLOG_ERR_FORWARD_PROTOCOL/msgpack': 'frame is not valid msgpack: {reason}',
  'QLOG_ERR_FORWARD_PROTOCOL/tag': 'the tag (first element) must be a non-empty string',
  'QLOG_ERR_FORWARD_PROTOCOL/option': 'the option element (last of the frame) must be a map',
  'QLOG_ERR_FORWARD_PROTOCOL/chunk': 'option "chunk" must be a string',
  'QLOG_ERR_FORWARD_PROTOCOL/forward-length': 'a Forward-mode message has 2 or 3 elements',
  'QLOG_ERR_FORWARD_PROTOCOL/packed-length': 'a PackedForward message has 2 or 3 elements',
  'QLOG_ERR_FORWARD_PROTOCOL/message-length': 'a Message-mode message is [tag, time, record, option?]',
  'QLOG_ERR_FORWARD_PROTOCOL/gunzip': 'CompressedPackedForward entries do not gunzip within {max} bytes: {reason}',
  'QLOG_ERR_FORWARD_PROTOCOL/compression': 'unsupported compression {found} (only "gzip")',
  'QLOG_ERR_FORWARD_PROTOCOL/entries': 'PackedForward entries are not valid msgpack: {reason}',

  // ---- http output (plugins/http); {url} is the request's URL, {body} the answer's first bytes
  QLOG_ERR_HTTP_REQUEST: 'request to {url} failed: {reason}',
  QLOG_ERR_HTTP_STATUS: '{url} answered HTTP {status} (will retry): {body}',
  QLOG_ERR_HTTP_REJECTED: '{url} rejected the request with HTTP {status} (not retried): {body}',
  QLOG_ERR_HTTP_ANSWER: 'cannot read the HTTP {status} answer of {url} (will retry): {reason}; the answer began: {body}',
  QLOG_ERR_HTTP_ITEMS: '{id}: {url} rejected {count} of {total} records for good (dropped); first reason: {reason}',
  'QLOG_ERR_HTTP_ITEMS/retry': '{url} has not stored {count} of {total} records yet ({reason}); sending those again',
  'QLOG_ERR_HTTP_ITEMS/partial': '{id}: {url} dropped {count} of {total} records (OTLP partialSuccess): {reason}',

  // ---- NATS JetStream output (plugins/nats); {servers} as configured, {stream} the stream option
  QLOG_ERR_NATS_UNREACHABLE:
    'cannot connect to NATS at {servers}: {reason}; qlog keeps trying and the records wait in the buffer (is nats-server running and listening there?)',
  'QLOG_ERR_NATS_UNREACHABLE/lost': 'not connected to NATS at {servers} for {ms} ms (reconnecting); the chunk is retried',
  'QLOG_ERR_NATS_UNREACHABLE/stopped': 'the NATS output to {servers} is stopped',
  QLOG_ERR_NATS_AUTH: 'NATS at {servers} refused the credentials ({reason}); check user and password, token, creds_file or nkey_file',
  'QLOG_ERR_NATS_AUTH/file': 'cannot read {option} {file}: {reason}',
  QLOG_ERR_NATS_STREAM_MISSING:
    'JetStream stream "{stream}" does not exist on {servers}; create it (nats stream add {stream} --subjects "{subjects}") or set create_stream: true',
  'QLOG_ERR_NATS_STREAM_MISSING/jetstream':
    'JetStream is not available at {servers} ({reason}); start nats-server with -js, or enable JetStream for the account',
  QLOG_ERR_NATS_PUBLISH: 'JetStream refused {count} message(s) on {subject} (stream {stream}): {reason} (error {code}); the chunk is retried',
  'QLOG_ERR_NATS_PUBLISH/full':
    'stream "{stream}" is full and refused {count} message(s) ({reason}); they are retried and the records wait in the buffer: raise its max_msgs or max_bytes, or remove old messages',
  'QLOG_ERR_NATS_PUBLISH/no-stream':
    'no JetStream stream stores subject {subject}; add it to the subjects of stream "{stream}" (nats stream edit {stream} --subjects ...)',
  'QLOG_ERR_NATS_PUBLISH/other-stream':
    'subject {subject} is stored by another stream than "{stream}"; change the subject option, or the subjects of the streams, so that "{stream}" stores it',
  'QLOG_ERR_NATS_PUBLISH/timeout':
    'no JetStream ack for {count} message(s) within {ms} ms; they are sent again (JetStream drops the duplicates by Nats-Msg-Id)',
  'QLOG_ERR_NATS_PUBLISH/lost':
    'the connection to NATS dropped with {count} message(s) unacknowledged ({reason}); they are sent again (JetStream drops the duplicates by Nats-Msg-Id)',
  QLOG_ERR_NATS_TOO_LARGE: 'dropped {count} record(s) of {tag} larger than the server or stream allows ({max} bytes per message)',

  // ---- Forward handshake (core/forward/handshake.ts): shape and timing of HELO/PING/PONG
  QLOG_ERR_FORWARD_HANDSHAKE:
    'expected PING in answer to our HELO, found {found} (this receiver requires the shared_key handshake: set shared_key on the sender)',
  'QLOG_ERR_FORWARD_HANDSHAKE/ping': 'malformed PING: {reason}',
  'QLOG_ERR_FORWARD_HANDSHAKE/ping-timeout':
    'no PING within {ms} ms of our HELO (this receiver requires the shared_key handshake: set shared_key on the sender)',
  'QLOG_ERR_FORWARD_HANDSHAKE/helo': 'expected HELO from the receiver, found {found}',
  'QLOG_ERR_FORWARD_HANDSHAKE/helo-nonce': 'the HELO from the receiver has no nonce (expected a str or bin)',
  'QLOG_ERR_FORWARD_HANDSHAKE/helo-timeout':
    'no HELO from the receiver within {ms} ms (is shared_key set on the receiving side? if not, remove shared_key here)',
  'QLOG_ERR_FORWARD_HANDSHAKE/unexpected-helo':
    'the receiver requires the shared_key handshake (it sent HELO): set shared_key on this sender (and username/password if the receiver has users)',
  'QLOG_ERR_FORWARD_HANDSHAKE/pong': 'malformed PONG from the receiver: {reason}',
  'QLOG_ERR_FORWARD_HANDSHAKE/pong-timeout': 'no PONG from the receiver within {ms} ms of our PING',
  // ---- Forward authentication: the peer answered, with another key or unknown credentials
  QLOG_ERR_FORWARD_AUTH: 'shared_key mismatch: the PING from "{hostname}" was made with another shared_key; set the same shared_key on both sides',
  'QLOG_ERR_FORWARD_AUTH/no-username':
    'username/password mismatch: "{hostname}" sent no username and this receiver has users; set username and password on the sender',
  'QLOG_ERR_FORWARD_AUTH/unknown-user': 'username/password mismatch: "{hostname}" sent username "{username}", which is not one of users',
  'QLOG_ERR_FORWARD_AUTH/password': 'username/password mismatch: "{hostname}" sent a wrong password for user "{username}"',
  'QLOG_ERR_FORWARD_AUTH/refused-key': 'the receiver refused authentication: shared_key mismatch (its shared_key is not ours; set the same key on both sides)',
  'QLOG_ERR_FORWARD_AUTH/refused-user':
    'the receiver refused authentication: username/password mismatch (user "{username}" with this password is not one of its users)',
  'QLOG_ERR_FORWARD_AUTH/refused-no-user':
    'the receiver refused authentication: username/password mismatch (it has users and we sent none: set username and password)',
  'QLOG_ERR_FORWARD_AUTH/refused': 'the receiver refused authentication: {reason}',
  'QLOG_ERR_FORWARD_AUTH/closed-after-ping':
    'the receiver closed the connection after our PING without a PONG: most likely its shared_key is not ours (Fluent Bit closes without a word on a shared_key mismatch); set the same key on both sides',
  'QLOG_ERR_FORWARD_AUTH/pong-key':
    'the receiver answered with a PONG made with another shared_key (it does not know ours); set the same shared_key on both sides',

  // ---- sealed logs (core/seal): key files, and what `qlog open` finds; {where} is file:line
  QLOG_ERR_SEAL_KEY: 'cannot read {what} {file}: {reason}',
  'QLOG_ERR_SEAL_KEY/recipient':
    '{where}: "{found}" {reason}; expected an age X25519 recipient "age1..." (the "# public key:" line age-keygen prints, or recipient.txt from "qlog keygen")',
  'QLOG_ERR_SEAL_KEY/identity':
    '{where}: {reason}; expected an age identity file: lines "AGE-SECRET-KEY-1..." (as age-keygen or "qlog keygen" write them), "#" comments and blank lines',
  'QLOG_ERR_SEAL_KEY/no-identity': '{file}: no identity in the file; expected a line "AGE-SECRET-KEY-1..." (made by age-keygen or "qlog keygen")',
  'QLOG_ERR_SEAL_KEY/no-recipients':
    'sealing needs at least one recipient: set "recipients" (age1... keys) or "recipients_file" (a file of age1... lines); {file}',
  'QLOG_ERR_SEAL_KEY/signing':
    '{file}: {reason}; expected an Ed25519 private key in PEM ("-----BEGIN PRIVATE KEY-----": signing.key from "qlog keygen", or "openssl genpkey -algorithm ed25519")',
  'QLOG_ERR_SEAL_KEY/verify':
    '{file}: {reason}; expected an Ed25519 public key: PEM ("-----BEGIN PUBLIC KEY-----", signing.pub from "qlog keygen") or one line "ed25519:<base64 of the 32 key bytes>"',
  'QLOG_ERR_SEAL_KEY/exists': '{file} exists already; "qlog keygen" never overwrites a key (remove it, or write elsewhere with -o DIR)',
  'QLOG_ERR_SEAL_KEY/attestation': 'the attestation command {command} failed: {reason}',
  QLOG_ERR_SEAL_READ: 'cannot read {file}: {reason}',
  QLOG_ERR_SEAL_AUTH: '{where}: authentication failed: {reason} (the unit was altered)',
  'QLOG_ERR_SEAL_AUTH/no-identity': '{where}: cannot open the unit: {reason}; it was sealed to other recipients (check -i), or its header was altered',
  'QLOG_ERR_SEAL_AUTH/format': '{where}: not a sealed unit: {reason}',
  'QLOG_ERR_SEAL_AUTH/chain':
    '{where}: broken chain: unit {unit} of stream {stream} (session {session}) names previous-unit hash {found}, but unit {prev} hashes to {expected} (a unit was replaced)',
  'QLOG_ERR_SEAL_AUTH/conflict':
    '{where}: unit {unit} of stream {stream} (session {session}) was read before at {other} with other contents: one of the two is forged',
  'QLOG_ERR_SEAL_AUTH/line-range':
    '{where}: the line says {src} {range} but the unit inside holds stream {stream} seq {first}-{last}: the cleartext of the line was altered',
  QLOG_ERR_SEAL_SIGNER:
    '{where}: unknown signer {signer}: unit {unit} of stream {stream} (session {session}) is signed by a key that is not a --verify-key (known: {known})',
  'QLOG_ERR_SEAL_SIGNER/unsigned':
    '{where}: unit {unit} of stream {stream} (session {session}) is not signed, but --verify-key requires signed units: it was made by someone without the signing key',
  'QLOG_ERR_SEAL_SIGNER/bad':
    '{where}: bad signature: unit {unit} of stream {stream} (session {session}) names signer {signer} but its signature does not verify (altered or forged)',
  'QLOG_ERR_SEAL_SIGNER/changed':
    '{where}: signer changed: unit {unit} of stream {stream} (session {session}) is signed by {signer}, the units before it in its chain by {before}: one of them was made by someone else',
  'QLOG_ERR_SEAL_SIGNER/attestation':
    '{where}: the attestation document in unit {unit} of stream {stream} (session {session}) does not contain the public key of signer {signer}: it does not bind the key that signed the units',
  QLOG_ERR_SEAL_GAP: '{where}: gap: {missing} of stream {stream} (session {session}) missing: the chain goes from {before} to unit {after}',
  'QLOG_ERR_SEAL_GAP/records':
    '{where}: gap: records of stream {stream} after seq {from} up to seq {to} are missing (session {session} starts at seq {to}, the previous one ended at seq {from})',
  QLOG_ERR_SEAL_REORDER:
    '{where}: reordered: unit {unit} of stream {stream} (session {session}) comes after unit {after}, but precedes it in the chain (printed in chain order)',
  'QLOG_ERR_SEAL_REORDER/session':
    '{where}: reordered: {count} record(s) of stream {stream} from session {session} come before seq {seq}, the earliest printed: this session was read after a later one (printed now, out of order)',
  QLOG_ERR_SEAL_DUPLICATE: '{where}: duplicate: unit {unit} of stream {stream} (session {session}) was read before at {other} (skipped)',
  QLOG_ERR_SEAL_TRUNCATED:
    '{where}: truncated: stream {stream} (session {session}) stops at unit {unit} (seq {seq}) without its closing unit: its last units were cut off, or the agent is still running or stopped without closing',
  QLOG_ERR_SEAL_RESENT:
    '{where}: note: {count} record(s) of stream {stream} up to seq {seq} were sent again by session {session} after a restart (printed once)',

  // ---- the vsock input's unseal: (plugins/vsock/vsock-unseal.ts); {where} names the input and sender
  QLOG_ERR_UNSEAL:
    "{where}: no identity in unseal.identity_file opens the units ({count} in {seconds} s, none opened): check the key (its age1... recipient must be in the enclave's seal.recipients); the units are held back (not acknowledged) until one opens, so fix the file and restart the agent",
  'QLOG_ERR_UNSEAL/signer':
    "{where}: no unit is signed by a key in unseal.verify_key_files ({count} in {seconds} s, none opened): check the keys (each enclave's signing.pub); the units are held back (not acknowledged) until one opens, so fix the list and restart the agent",
  'QLOG_ERR_UNSEAL/plain':
    '{where}: dropped a record that is not a sealed unit (src {src}, seq {seq}): this input unseals, and a relay could inject such records; if this sender does not seal, set unseal.plain_records: pass',

  // ---- templates (core/template.ts); {template} is the template text, quoted
  QLOG_ERR_TEMPLATE_SYNTAX:
    'invalid placeholder name {name} (expected tag, host, time, a metadata or body field such as path or body.level, or env:NAME) at column {column} of template {template}',
  'QLOG_ERR_TEMPLATE_SYNTAX/unclosed': 'unclosed "${" (add "}" or write "$${" for a literal "${") at column {column} of template {template}',
  'QLOG_ERR_TEMPLATE_SYNTAX/nested':
    '"${" inside a placeholder (placeholders do not nest; close the first one with "}") at column {column} of template {template}',
  'QLOG_ERR_TEMPLATE_SYNTAX/empty': 'empty placeholder "${}" (expected a name such as ${tag}) at column {column} of template {template}',
  'QLOG_ERR_TEMPLATE_SYNTAX/env-name': 'invalid environment variable name {name} in "${env:...}" at column {column} of template {template}',
} as const;
