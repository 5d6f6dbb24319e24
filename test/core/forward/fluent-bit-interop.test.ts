// Replays bytes captured from a real Fluent Bit 5.1.1 (test/fixtures/forward/README.md): its
// handshake messages (nonce, auth salt and PING salt are 16 random bytes in a msgpack str, not
// UTF-8) and its chunks, in both directions. qlog must accept what Fluent Bit sent and produce,
// byte for byte, what Fluent Bit accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { waitFor } from '../../helpers/wait.js';
import { decodeEvents, encodeAck, packr, unpackFrame } from '../../../core/forward/codec.js';
import { checkPing, checkPong, encodePing, encodePong, parseHelo, sharedKeyDigest, type ForwardUser, type Helo } from '../../../core/forward/handshake.js';
import { unpackRaw } from '../../../core/forward/msgpack-raw.js';
import { SenderSession } from '../../../core/forward/sender.js';
import { pair } from './session-pair.js';
import { tempDir } from '../../helpers/tmp.js';

interface Capture {
  shared_key: string | null;
  users: ForwardUser[];
  username?: string;
  password?: string;
  client_hostname: string;
  server_hostname: string;
  messages: { from: 'client' | 'server'; hex: string }[];
}

function capture(name: string): Capture & { bytes: Buffer[] } {
  const c = JSON.parse(readFileSync(new URL(`../../fixtures/forward/fluent-bit-5.1.1/${name}.json`, import.meta.url), 'utf8')) as Capture;
  return { ...c, bytes: c.messages.map((m) => Buffer.from(m.hex, 'hex')) };
}

const limits = { maxDecompressed: 1 << 24 };
const notUtf8 = (b: Buffer): boolean => !Buffer.from(b.toString('utf8'), 'utf8').equals(b);
/** The HELO qlog sent (decoded raw), as its session kept it. */
function heloOf(frame: Buffer): Helo {
  const h = parseHelo(unpackRaw(frame));
  assert.ok(h.ok);
  return h.helo;
}

// ---------------------------------------------------------------- Fluent Bit -> qlog vsock

for (const name of ['fb-to-qlog-shared-key', 'fb-to-qlog-users'] as const) {
  test(`${name}: Fluent Bit's PING (str salt, raw bytes) is accepted and our PONG is the one it accepted`, () => {
    const c = capture(name);
    const [helo, ping, pong] = c.bytes;
    const h = heloOf(helo!);
    assert.equal(h.auth.length, c.users.length ? 16 : 0, 'an auth salt exactly when there are users');
    const msg = unpackRaw(ping!) as Buffer[];
    const salt = msg[2]!;
    assert.equal(
      ping!.indexOf(Buffer.concat([Buffer.from([0xb0]), salt])),
      'PING'.length + 2 + 1 + c.client_hostname.length,
      'the salt is a fixstr of 16 bytes',
    );
    assert.ok(notUtf8(salt), 'the captured salt is not valid UTF-8');
    // The old bug: hashing the UTF-8-decoded salt gives another digest.
    assert.notEqual(sharedKeyDigest(salt.toString('utf8'), c.client_hostname, h.nonce, c.shared_key!), msg[3]!.toString());

    const r = checkPing(msg, h, c.shared_key!, c.users);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(r.hostname, c.client_hostname);
    assert.deepEqual(encodePong({ hostname: c.server_hostname, salt: r.salt, nonce: h.nonce, key: c.shared_key! }), pong);

    const other = checkPing(msg, h, 'another key', c.users);
    assert.ok(!other.ok && other.error.code === 'QLOG_ERR_FORWARD_AUTH' && other.pongReason === 'shared_key mismatch');
    if (c.users.length) {
      const wrong = checkPing(msg, h, c.shared_key!, [{ username: 'bob', password: 'not builder' }]);
      assert.ok(!wrong.ok);
      assert.equal(wrong.error.message, 'username/password mismatch: "fluent-bit-host" sent a wrong password for user "bob"');
    }
  });
}

for (const name of ['fb-to-qlog-shared-key', 'fb-to-qlog-gzip'] as const) {
  test(`${name}: Fluent Bit's chunks decode (nanosecond times, int64 values) and our acks echo its chunk ids`, () => {
    const c = capture(name);
    const data = c.messages.map((m, i) => ({ ...m, i })).filter((m) => m.from === 'client' && !m.hex.startsWith('96a450494e47')); // not PING
    assert.equal(data.length, 2);
    const [app, big] = data.map((m) => decodeEvents(unpackFrame(c.bytes[m.i]!), limits));
    assert.equal(app!.mode, name.endsWith('gzip') ? 'compressed' : 'forward'); // as Fluent Bit 5.1.1 sends them
    assert.equal(app!.tag, 'app');
    assert.deepEqual(
      app!.records.map((r) => r.body),
      [0, 1, 2, 3, 4].map((n) => ({ log: `fb${String(n).padStart(9, '0')} ${'x'.repeat(80)}` })),
    );
    assert.ok(app!.records.every((r) => r.time > 1_700_000_000_000_000_000n));
    assert.ok(
      [...app!.records, ...big!.records].some((r) => r.time % 1_000_000n !== 0n),
      'sub-millisecond digits arrive',
    );
    assert.equal(big!.tag, 'big');
    assert.deepEqual(big!.records[0]!.body, { n: 9007199254740993n, neg: -9223372036854775807n, msg: 'big' });
    for (const m of data) {
      const ev = decodeEvents(unpackFrame(c.bytes[m.i]!), limits);
      assert.equal(typeof ev.ackValue, 'string');
      assert.deepEqual(encodeAck(ev.ackValue), c.bytes[m.i + 1], 'the ack qlog sent, and Fluent Bit took');
    }
  });
}

// ---------------------------------------------------------------- qlog vsock-forward -> Fluent Bit

for (const name of ['qlog-to-fb-shared-key', 'qlog-to-fb-users'] as const) {
  test(`${name}: Fluent Bit's HELO (str nonce and auth) is read raw; our PING is the one it accepted; its PONG checks`, () => {
    const c = capture(name);
    const [heloBytes, ping, pong, chunk, ack] = c.bytes;
    const h = heloOf(heloBytes!);
    assert.equal(h.nonce.length, 16);
    assert.equal(h.auth.length, 16, 'Fluent Bit always sends an auth salt, users or not');
    assert.ok(notUtf8(h.nonce) || notUtf8(h.auth), 'the captured nonce or auth is not valid UTF-8');
    const cred = { key: c.shared_key!, username: c.username, password: c.password };
    const salt = (unpackRaw(ping!) as Buffer[])[2]!.toString();
    assert.deepEqual(encodePing(c.client_hostname, salt, h, cred), ping, 'byte for byte the PING Fluent Bit accepted');
    const p = checkPong(unpackRaw(pong!), salt, h, cred);
    assert.ok(p.ok, p.ok ? '' : p.error.message);
    assert.equal(p.hostname, c.server_hostname);
    const bad = checkPong(unpackRaw(pong!), salt, h, { ...cred, key: 'another key' });
    assert.ok(!bad.ok && bad.error.message.startsWith('the receiver answered with a PONG made with another shared_key'));
    // Its ack of our chunk.
    const ev = decodeEvents(unpackFrame(chunk!), limits);
    assert.deepEqual(unpackFrame(ack!), { ack: ev.ackValue });
  });
}

test("a SenderSession against Fluent Bit's recorded HELO: the PING verifies as in_forward verifies it (raw bytes), users included", async (t) => {
  const c = capture('qlog-to-fb-users');
  const [a, b] = await pair(tempDir(t), 'fb.sock');
  t.after(() => {
    a.destroy();
    b.destroy();
  });
  const h = heloOf(c.bytes[0]!);
  // in_forward's check_ping (plugins/in_forward/fw_prot.c), over the bytes as they are.
  const sha = (...parts: Buffer[]) => createHash('sha512').update(Buffer.concat(parts)).digest('hex');
  const seen: string[] = [];
  a.on('data', (d: Buffer) => {
    const [, host, salt, digest, user, pw] = unpackRaw(d) as Buffer[];
    seen.push(user!.toString());
    const key = Buffer.from(c.shared_key!);
    assert.equal(digest!.toString(), sha(salt!, host!, h.nonce, key));
    assert.equal(pw!.toString(), sha(h.auth, user!, Buffer.from('builder')));
    a.write(packr.pack(['PONG', true, '', 'fluent-bit-in', sha(salt!, Buffer.from('fluent-bit-in'), h.nonce, key)]));
  });
  const s = new SenderSession(b, {
    sharedKey: 'secret',
    username: 'bob',
    password: 'builder',
    selfHostname: 'qlog-enclave',
    heartbeatMs: 0,
    ackTimeoutMs: 5000,
    onAck: () => {},
    onClose: () => {},
  });
  a.write(c.bytes[0]!);
  await s.ready;
  assert.equal(s.serverHostname, 'fluent-bit-in');
  await waitFor(() => seen.length === 1, { what: 'PING' });
  assert.deepEqual(seen, ['bob']);
  s.close(undefined);
});

test('Fluent Bit closes without a PONG on a shared_key mismatch: the sender says so', async (t) => {
  const c = capture('qlog-to-fb-shared-key');
  const [a, b] = await pair(tempDir(t), 'fbk.sock');
  t.after(() => {
    a.destroy();
    b.destroy();
  });
  a.on('data', () => a.end()); // in_forward: "shared_key mismatch", connection closed
  const s = new SenderSession(b, { sharedKey: 'other', selfHostname: 'qlog-enclave', heartbeatMs: 0, ackTimeoutMs: 5000, onAck: () => {}, onClose: () => {} });
  a.write(c.bytes[0]!);
  await assert.rejects(s.ready, /^Error: the receiver closed the connection after our PING without a PONG: most likely its shared_key is not ours/);
});
