// tls:// connect and listen with certificates made in the test (openssl): mutual TLS with the
// subject as peer identity, and each refusal (unknown CA, expired, host name, no client
// certificate, plaintext peer, bad files) with the message that names it, on the side that sees it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect, connectPeer, listen, parseAddress, TransportError, type Listener, type PeerIdentity } from '../../../core/transport/index.js';
import { loadTlsFiles, readTlsFiles, type TlsContext } from '../../../core/transport/tls-files.js';
import { checkTls, subjectMatches, TLS_DEFAULTS, type TlsOptions } from '../../../core/transport/tls-options.js';
import { ConfigError } from '../../../core/errors.js';
import { hasOpenssl, makeCerts, type TestCerts } from '../../helpers/certs.js';
import { configFrom } from '../../helpers/engine.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

assert.ok(hasOpenssl(), 'the openssl CLI is needed to make test certificates (.ci/run installs it)');

const dir = tempDir({ after }, 'qlog-tls-');
const c: TestCerts = makeCerts(dir);

const tlsOpts = (o: Partial<TlsOptions>): TlsOptions => ({ ...TLS_DEFAULTS, ...o });
const ctx = (o: Partial<TlsOptions>, mode: 'connect' | 'listen'): TlsContext => readTlsFiles(tlsOpts(o), mode, dir);

interface Server {
  listener: Listener;
  uri: string;
  accepted: { stream: Duplex; peer: PeerIdentity }[];
  refused: { peer: PeerIdentity; err: TransportError }[];
}

async function server(t: { after(fn: () => unknown): void }, o: Partial<TlsOptions>): Promise<Server> {
  const s: Omit<Server, 'listener' | 'uri'> = { accepted: [], refused: [] };
  const listener = await listen(
    'tls://127.0.0.1:0',
    (stream, peer) => {
      s.accepted.push({ stream, peer });
      stream.on('data', (d: Buffer) => stream.write(d)); // echo
      stream.on('error', () => undefined);
    },
    { tls: ctx(o, 'listen'), onRefused: (peer, err) => s.refused.push({ peer, err }), handshakeTimeoutMs: 2000 },
  );
  t.after(() => listener.close());
  return { ...s, listener, uri: listener.uri };
}

const MTLS = () => ({ ca_file: c.ca, crt_file: c.server.crt, key_file: c.server.key });
const CLIENT = () => ({ ca_file: c.ca, crt_file: c.client.crt, key_file: c.client.key });

async function rejected(p: Promise<unknown>): Promise<TransportError> {
  const e = await p.then(
    () => assert.fail('expected the connection to fail'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof TransportError, String(e));
  return e;
}

test('tls:// parses like tcp:// (IPv6 in brackets), port 0 only to listen', () => {
  assert.deepEqual(parseAddress('tls://parent.example:24224'), { transport: 'tls', host: 'parent.example', port: 24224, uri: 'tls://parent.example:24224' });
  assert.equal(parseAddress('TLS://[::1]:5').uri, 'tls://[::1]:5');
  assert.throws(() => parseAddress('tls://host'), /expected tls:\/\/HOST:PORT/);
  assert.throws(() => parseAddress('tls://host:70000'), /a port number \(0-65535\)/);
});

test('the tls map is checked against its address when the config loads', () => {
  const tls = parseAddress('tls://0.0.0.0:1');
  const tcp = parseAddress('tcp://0.0.0.0:1');
  assert.equal(checkTls(undefined, 'connect', tls), undefined);
  assert.equal(checkTls(tlsOpts({}), 'listen', tcp), undefined);
  assert.match(
    checkTls(tlsOpts({ ca_file: 'ca.pem' }), 'connect', tcp)!.message,
    /expected a tls:\/\/ address .* found tcp:\/\/0\.0\.0\.0:1 \(write tls:\/\/0\.0\.0\.0:1/,
  );
  assert.match(checkTls(tlsOpts({}), 'listen', tls)!.message, /expected tls\.crt_file and tls\.key_file \(the certificate tls:\/\/0\.0\.0\.0:1 presents/);
  assert.match(checkTls(tlsOpts({ crt_file: 'a.pem' }), 'connect', tls)!.message, /found only crt_file/);
  assert.match(checkTls(tlsOpts({ crt_file: 'a', key_file: 'b', ca_file: 'c', verify: false }), 'listen', tls)!.message, /verify: true with tls\.ca_file/);
  assert.match(checkTls(tlsOpts({ crt_file: 'a', key_file: 'b', server_name: 'x' }), 'listen', tls)!.message, /no tls\.server_name on a listener/);
});

test('allowed_subjects entries match by attribute, in any order', () => {
  assert.ok(subjectMatches('CN=enclave-1,O=Acme', 'CN=enclave-1'));
  assert.ok(subjectMatches('CN=enclave-1,O=Acme', 'o=Acme, CN=enclave-1'));
  assert.ok(!subjectMatches('CN=enclave-10,O=Acme', 'CN=enclave-1'));
  assert.ok(subjectMatches('CN=a\\,b,O=Acme', 'CN=a\\,b'));
  assert.ok(!subjectMatches('CN=a\\,b,O=Acme', 'CN=a'));
  assert.ok(!subjectMatches('CN=x', ''));
});

test('mutual TLS: both sides verify, each sees the other certificate subject, data flows', async (t) => {
  const s = await server(t, MTLS());
  const { stream, peer } = await connectPeer(s.uri, { tls: ctx(CLIENT(), 'connect'), timeoutMs: 5000 });
  t.after(() => stream.destroy());
  assert.equal(peer.transport, 'tls');
  assert.equal(peer.subject, 'CN=parent,O=Acme');
  assert.match(peer.label, /^tls:127\.0\.0\.1:\d+$/);
  const echoed = new Promise<string>((r) => stream.once('data', (d: Buffer) => r(d.toString())));
  stream.write('hello');
  assert.equal(await echoed, 'hello');
  await waitFor(() => s.accepted.length === 1, { what: 'the accepted connection' });
  assert.equal(s.accepted[0]!.peer.subject, 'CN=enclave-1,O=Acme');
  assert.deepEqual(s.refused, []);
});

test('server-only TLS: a listener without ca_file asks for no client certificate; its peers have no subject', async (t) => {
  const s = await server(t, { crt_file: c.server.crt, key_file: c.server.key });
  const stream = await connect(s.uri, { tls: ctx({ ca_file: c.ca }, 'connect'), timeoutMs: 5000 });
  t.after(() => stream.destroy());
  await waitFor(() => s.accepted.length === 1, { what: 'the accepted connection' });
  assert.equal(s.accepted[0]!.peer.subject, undefined);
});

test('a server certificate from a CA not in ca_file: the client refuses, naming the certificate and the CA file', async (t) => {
  const s = await server(t, MTLS());
  const e = await rejected(connect(s.uri, { tls: ctx({ ca_file: c.otherCa, crt_file: c.client.crt, key_file: c.client.key }, 'connect'), timeoutMs: 5000 }));
  assert.equal(e.code, 'QLOG_ERR_TRANSPORT_TLS');
  assert.match(
    e.message,
    /^TLS handshake with tls:\/\/127\.0\.0\.1:\d+ failed: the peer's certificate \(CN=parent,O=Acme, issued by CN=Test CA\) is not signed by a CA in tls\.ca_file .*other-ca\.crt \([A-Z_]+\)$/,
  );
  assert.equal(s.accepted.length, 0);
});

test('a host name the server certificate does not carry: refused, with the names it does carry; server_name fixes it', async (t) => {
  const s = await server(t, { crt_file: c.server.crt, key_file: c.server.key });
  const e = await rejected(connect(s.uri, { tls: ctx({ ca_file: c.ca, server_name: 'parent.example' }, 'connect'), timeoutMs: 5000 }));
  assert.match(
    e.message,
    /the peer's certificate is for DNS:localhost, IP Address:127\.0\.0\.1, not "parent\.example"; connect by one of those names or set tls\.server_name/,
  );
  const ok = await connect(s.uri, { tls: ctx({ ca_file: c.ca, server_name: 'localhost' }, 'connect'), timeoutMs: 5000 });
  ok.destroy();
});

test('verify: false accepts an untrusted certificate (and reports no subject)', async (t) => {
  const s = await server(t, { crt_file: c.rogue.crt, key_file: c.rogue.key });
  const { stream, peer } = await connectPeer(s.uri, { tls: ctx({ verify: false }, 'connect'), timeoutMs: 5000 });
  stream.destroy();
  assert.equal(peer.subject, undefined);
});

test('mutual TLS refusals: no client certificate, another CA, expired; nothing reaches the handler', async (t) => {
  const s = await server(t, MTLS());
  const cases: [string, Partial<TlsOptions>, RegExp][] = [
    ['no certificate', { ca_file: c.ca }, /it sent no client certificate \(this listener requires one: tls\.ca_file is set\)/],
    [
      'another CA',
      { ca_file: c.ca, crt_file: c.rogue.crt, key_file: c.rogue.key },
      /its certificate \(CN=enclave-1,O=Acme, issued by CN=Other CA\) is not signed by a CA in tls\.ca_file .*ca\.crt/,
    ],
    ['expired', { ca_file: c.ca, crt_file: c.expired.crt, key_file: c.expired.key }, /its certificate \(CN=enclave-1,O=Acme\) expired on /],
  ];
  for (const [name, o, why] of cases) {
    const before = s.refused.length;
    const e = await rejected(connect(s.uri, { tls: ctx(o, 'connect'), timeoutMs: 5000 }));
    // TLS 1.3: the client has finished its side when the listener refuses it; it learns only that it was closed.
    assert.equal(e.code, 'QLOG_ERR_TRANSPORT_TLS', name);
    assert.match(e.message, /closed the connection during the TLS handshake|requires a client certificate/, name);
    await waitFor(() => s.refused.length > before, { what: `the refusal of ${name}` });
    const r = s.refused[before]!;
    assert.equal(r.err.code, 'QLOG_ERR_TRANSPORT_TLS', name);
    assert.match(r.err.message, new RegExp(`^refused tls:127\\.0\\.0\\.1:\\d+ on ${s.uri.replace(/[.]/g, '\\.')}: `), name);
    assert.match(r.err.message, why, name);
  }
  assert.equal(s.accepted.length, 0);
});

test('a plaintext client on a TLS listener is refused as one; a TLS client on a plaintext peer says so', async (t) => {
  const s = await server(t, MTLS());
  const port = Number(/:(\d+)$/.exec(s.uri)![1]);
  const plain = net.connect({ host: '127.0.0.1', port });
  plain.on('error', () => undefined);
  plain.write(Buffer.from([0x93, 0xa3, 0x61, 0x70, 0x70, 0xc4, 0x00, 0x80])); // a Forward message
  await waitFor(() => s.refused.length === 1, { what: 'the refusal of the plaintext client' });
  assert.match(
    s.refused[0]!.err.message,
    /^refused tls:127\.0\.0\.1:\d+ on tls:\/\/127\.0\.0\.1:\d+: it does not speak TLS \(a plaintext client\? give the sender a tls:\/\/ address/,
  );
  plain.destroy();

  // A plaintext listener that talks first (a Forward receiver's HELO).
  const helo = net.createServer((sock) => sock.end(Buffer.from([0x92, 0xa4, 0x48, 0x45, 0x4c, 0x4f, 0x80, 0x0a, 0x0a, 0x0a])));
  await new Promise<void>((r) => helo.listen(0, '127.0.0.1', r));
  t.after(() => helo.close());
  const e = await rejected(connect(`tls://127.0.0.1:${(helo.address() as net.AddressInfo).port}`, { tls: ctx({ ca_file: c.ca }, 'connect'), timeoutMs: 5000 }));
  assert.match(
    e.message,
    /tls:\/\/127\.0\.0\.1:\d+ (does not speak TLS \(.*\); is the peer listening on tcp:\/\/ instead of tls:\/\/\?|closed the connection during the TLS handshake)/,
  );
  assert.equal(s.accepted.length, 0);
});

test('a client that never completes the handshake is dropped after the handshake timeout', async (t) => {
  const s = await server(t, MTLS());
  const port = Number(/:(\d+)$/.exec(s.uri)![1]);
  const idle = net.connect({ host: '127.0.0.1', port });
  idle.on('error', () => undefined);
  t.after(() => idle.destroy());
  await waitFor(() => s.refused.length === 1, { timeoutMs: 5000, what: 'the handshake timeout' });
  assert.match(s.refused[0]!.err.message, /no TLS handshake within 2000 ms/);
});

test('certificate files: missing, not PEM, a key of another certificate: errors name the option and the file', () => {
  const notPem = join(dir, 'not-pem.crt');
  writeFileSync(notPem, 'hello\n');
  const cases: [Partial<TlsOptions>, RegExp][] = [
    [{ ca_file: 'missing.pem' }, /^cannot read tls\.ca_file .*missing\.pem: no such file$/],
    [{ crt_file: notPem, key_file: c.client.key }, /^tls\.crt_file .*not-pem\.crt holds no PEM CERTIFICATE/],
    [{ crt_file: c.client.crt, key_file: notPem }, /^tls\.key_file .*not-pem\.crt is not a usable private key/],
    [
      { crt_file: c.server.crt, key_file: c.client.key },
      /^tls\.key_file .*client\.key is not the private key of the certificate in tls\.crt_file .*server\.crt$/,
    ],
  ];
  for (const [o, re] of cases) {
    assert.throws(
      () => ctx(o, 'connect'),
      (e: unknown) => e instanceof TransportError && e.code === 'QLOG_ERR_TRANSPORT_TLS_FILE' && re.test(e.message),
      String(re),
    );
  }
});

test('a reload that finds the files unusable keeps the certificates read before, and says why', () => {
  const sub = join(dir, 'reload');
  mkdirSync(sub);
  copyFileSync(c.server.crt, join(sub, 'crt.pem'));
  copyFileSync(c.server.key, join(sub, 'key.pem'));
  const o = tlsOpts({ crt_file: 'crt.pem', key_file: 'key.pem' });
  const first = loadTlsFiles(o, 'listen', sub);
  assert.equal(first.stale, undefined);
  copyFileSync(c.client.key, join(sub, 'key.pem')); // half-way through a rotation
  const second = loadTlsFiles(o, 'listen', sub);
  assert.equal(second.context, first.context);
  assert.match(second.stale!.message, /is not the private key of the certificate/);
  copyFileSync(c.client.crt, join(sub, 'crt.pem')); // rotation complete
  const third = loadTlsFiles(o, 'listen', sub);
  assert.equal(third.stale, undefined);
  assert.notEqual(third.context, first.context);
  assert.throws(() => loadTlsFiles(tlsOpts({ crt_file: 'nope.pem', key_file: 'key.pem' }), 'listen', sub), /cannot read tls\.crt_file/);
});

test('config: an unknown key in tls, tls with a tcp:// address, allowed_subjects without tls:// are refused where they are written', async () => {
  const issues = async (yaml: string): Promise<string[]> => {
    const e = await configFrom(yaml).then(
      () => assert.fail('expected a ConfigError'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map(String);
  };
  const found = await issues(`
pipeline:
  inputs:
    - name: vsock
      listen: tcp://127.0.0.1:1
      allowed_subjects: ['CN=a']
  outputs:
    - name: vsock-forward
      match: '*'
      connect: tls://127.0.0.1:1
      tls:
        ca_fle: ca.pem
`);
  assert.equal(found.length, 2, found.join('\n'));
  assert.match(
    found[0]!,
    /^test\.yaml:5:\d+: pipeline\.inputs\[0\]\.allowed_subjects: expected a tls:\/\/ address with allowed_subjects .* found tcp:\/\/127\.0\.0\.1:1/,
  );
  assert.match(found[1]!, /^test\.yaml:11:\d+: pipeline\.outputs\[0\]\.tls\.ca_fle: unknown key "ca_fle" \(did you mean "ca_file"\?\)/);
  const [tcp] = await issues(`
pipeline:
  inputs:
    - name: vsock
      listen: tcp://127.0.0.1:1
      tls:
        verify: false
  outputs:
    - name: stdout
      match: '*'
`);
  assert.match(
    tcp!,
    /^test\.yaml:\d+:\d+: pipeline\.inputs\[0\]\.tls: expected a tls:\/\/ address with the tls options, found tcp:\/\/127\.0\.0\.1:1 \(write tls:\/\/127\.0\.0\.1:1, or remove tls\)/,
  );
});
