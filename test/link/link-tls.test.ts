// The link over tls:// between two real agents, with certificates made in the test: mutual TLS
// delivers every line exactly once with the enclave's certificate subject as meta.subject;
// a wrong CA, an expired or foreign client certificate and a plaintext sender are refused with
// the reason in the log and deliver nothing; SIGHUP re-reads the certificate files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { hasOpenssl, issue, makeCerts, type TestCerts } from '../helpers/certs.js';
import { freePort } from '../helpers/net.js';
import { tempDir, type HasAfter } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { assertDelivered, enclaveConfig, messages, outLines, parentConfig, resetSource, start, stop, waitForCount, writeLines } from './link.js';

assert.ok(hasOpenssl(), 'the openssl CLI is needed to make test certificates (.ci/run installs it)');

type TlsMap = Record<string, string | boolean>;

/** enclave: tail source.log -> vsock-forward `mode` `uri`. */
function enclave(dir: string, name: string, uri: string, tls?: TlsMap, mode: 'connect' | 'listen' = 'connect'): string {
  return enclaveConfig(dir, { mode, uri, extra: tls ? { tls } : {} }, name);
}

/** parent: vsock (mutual TLS, allowed_subjects) -> rotated-file out/app.log, then the `outputs` given. */
function parent(dir: string, uri: string, c: TestCerts, outputs = '', mode: 'connect' | 'listen' = 'listen', tls: TlsMap = {}): string {
  const extra = { connect_timeout: '3s', allowed_subjects: ['CN=enclave-1'], tls: { ca_file: c.ca, crt_file: 'parent.crt', key_file: 'parent.key', ...tls } };
  return parentConfig(dir, { mode, uri, extra }, 'parent', outputs);
}

const STDOUT_META = `    - name: stdout
      match: '*'
      format: json
      include_meta: true
`;

/** Certificates, the parent's pair copied to parent.crt / parent.key (relative paths in its config); `n` lines to send; a free tls:// address. */
async function setup(t: HasAfter, n: number): Promise<{ dir: string; c: TestCerts; uri: string; port: number }> {
  const dir = tempDir(t, 'qlog-link-tls-');
  const c = makeCerts(dir);
  copyFileSync(c.server.crt, join(dir, 'parent.crt'));
  copyFileSync(c.server.key, join(dir, 'parent.key'));
  resetSource(dir);
  writeLines(dir, 1, n);
  const port = await freePort();
  return { dir, c, uri: `tls://127.0.0.1:${port}`, port };
}

const CLIENT = (c: TestCerts): TlsMap => ({ ca_file: c.ca, crt_file: c.client.crt, key_file: c.client.key });

test('mutual TLS: 20,000 lines exactly once, in order, each with the enclave certificate subject', async (t) => {
  const N = 20_000;
  const { dir, c, uri } = await setup(t, N);
  const p = start(t, dir, parent(dir, uri, c, STDOUT_META));
  await p.waitForLine(/listening on tls:/, { stream: 'stderr' });
  const e = start(t, dir, enclave(dir, 'enclave', uri, CLIENT(c)));
  await waitForCount(dir, N, 60_000, [e, p]);
  await new Promise((r) => setTimeout(r, 200)); // nothing more (a duplicate) may arrive before the stop
  await stop(e, p);
  assertDelivered(dir, N);
  const metas = p.stdout.map((l) => (JSON.parse(l) as { meta: Record<string, unknown> }).meta);
  assert.equal(metas.length, N);
  assert.ok(
    metas.every((m) => m.subject === 'CN=enclave-1,O=Acme' && typeof m.peer === 'string' && m.peer.startsWith('tls:127.0.0.1:')),
    JSON.stringify(metas[0]),
  );
  // src in the verified subject's namespace, as a vsock peer's is in its CID's.
  assert.ok(
    metas.every((m) => typeof m.src === 'string' && m.src.startsWith('tls:CN=enclave-1,O=Acme/') && m.src.length > 'tls:CN=enclave-1,O=Acme/'.length),
    JSON.stringify(metas[0]),
  );
});

test('qlog layout over TLS (the enclave listens, the parent connects by server_name): exactly once, meta.subject of the enclave', async (t) => {
  const N = 20_000;
  const { dir, c, uri } = await setup(t, N);
  // The enclave presents CN=enclave-1 (a name only: DNS:enclave-1) and requires the parent's certificate.
  const e = start(t, dir, enclave(dir, 'enclave', uri, { ca_file: c.ca, crt_file: c.client.crt, key_file: c.client.key }, 'listen'));
  await e.waitForLine(/listening on tls:/, { stream: 'stderr' });
  const p = start(t, dir, parent(dir, uri, c, STDOUT_META, 'connect', { server_name: 'enclave-1' }));
  await waitForCount(dir, N, 60_000, [e, p]);
  await new Promise((r) => setTimeout(r, 200)); // nothing more (a duplicate) may arrive before the stop
  await stop(e, p);
  assertDelivered(dir, N);
  const subjects = new Set(p.stdout.map((l) => (JSON.parse(l) as { meta: Record<string, unknown> }).meta.subject));
  assert.deepEqual([...subjects], ['CN=enclave-1,O=Acme']);
});

test('refused with the reason, nothing delivered: foreign CA, expired certificate, wrong server CA, plaintext, subject not allowed', async (t) => {
  const { dir, c, uri, port } = await setup(t, 100);
  const other = issue(c, 'enclave-2', { cn: 'enclave-2', san: 'DNS:enclave-2' });
  const p = start(t, dir, parent(dir, uri, c));
  await p.waitForLine(/listening on tls:/, { stream: 'stderr' });
  const senders = [
    start(t, dir, enclave(dir, 'rogue', uri, { ca_file: c.ca, crt_file: c.rogue.crt, key_file: c.rogue.key })),
    start(t, dir, enclave(dir, 'expired', uri, { ca_file: c.ca, crt_file: c.expired.crt, key_file: c.expired.key })),
    start(t, dir, enclave(dir, 'wrong-ca', uri, { ca_file: c.otherCa, crt_file: c.client.crt, key_file: c.client.key })),
    start(t, dir, enclave(dir, 'plaintext', `tcp://127.0.0.1:${port}`)),
    start(t, dir, enclave(dir, 'enclave-2', uri, { ca_file: c.ca, crt_file: other.crt, key_file: other.key })),
  ];
  const [rogue, , wrongCa] = senders;
  const refused = (re: RegExp) => p.waitForLine((l) => re.test(l), { stream: 'stderr', timeoutMs: 20_000 });
  const at = `on tls://127\\.0\\.0\\.1:${port}`;
  await refused(
    new RegExp(
      `refused tls:127\\.0\\.0\\.1:\\d+ ${at}: its certificate \\(CN=enclave-1,O=Acme, issued by CN=Other CA\\) is not signed by a CA in tls\\.ca_file`,
    ),
  );
  await refused(new RegExp(`refused tls:127\\.0\\.0\\.1:\\d+ ${at}: its certificate \\(CN=enclave-1,O=Acme\\) expired on`));
  await refused(new RegExp(`refused tls:127\\.0\\.0\\.1:\\d+ ${at}: it does not speak TLS \\(a plaintext client\\?`));
  await refused(/refused connection from tls:127\.0\.0\.1:\d+: certificate subject CN=enclave-2,O=Acme is not in allowed_subjects \[CN=enclave-1\]/);
  // The sender that does not trust the parent's CA refuses the parent, and says so.
  await wrongCa!.waitForLine(/the peer's certificate \(CN=parent,O=Acme, issued by CN=Test CA\) is not signed by a CA in tls\.ca_file .*other-ca\.crt/, {
    stream: 'stderr',
    timeoutMs: 20_000,
  });
  // The refused client learns it was closed during the handshake (TLS 1.3) and is pointed at the listener's log.
  await rogue!.waitForLine(/closed the connection during the TLS handshake: it does not speak TLS, or it refused our certificate/, {
    stream: 'stderr',
    timeoutMs: 20_000,
  });
  await stop(...senders, p);
  assert.equal(outLines(dir).length, 0, 'nothing delivered');
  assert.ok(!messages(p).some((m) => /connected with/.test(m)), 'no session was opened');
});

test('SIGHUP re-reads the certificate files: new connections get the new certificate, the stream goes on exactly once', async (t) => {
  const N = 10_000;
  const { dir, c, uri, port } = await setup(t, N);
  const p = start(t, dir, parent(dir, uri, c));
  await p.waitForLine(/listening on tls:/, { stream: 'stderr' });
  const e = start(t, dir, enclave(dir, 'enclave', uri, CLIENT(c)));
  await waitForCount(dir, N, 60_000, [e, p]);

  const presented = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(c.ca), rejectUnauthorized: false });
      s.once('secureConnect', () => {
        resolve(String(s.getPeerCertificate().subject.CN));
        s.destroy();
      });
      s.once('error', reject);
    });
  assert.equal(await presented(), 'parent');

  // Renew: a new certificate (CN=parent-2) and key written over the files the config names.
  const renewed = issue(c, 'parent-2', { cn: 'parent-2', san: 'IP:127.0.0.1' });
  copyFileSync(renewed.crt, join(dir, 'parent.crt'));
  copyFileSync(renewed.key, join(dir, 'parent.key'));
  const from = p.stderr.length;
  p.signal('SIGHUP');
  await p.waitForLine(/reload complete/, { stream: 'stderr', from, timeoutMs: 20_000 });
  await waitFor(async () => (await presented().catch(() => '')) === 'parent-2', { timeoutMs: 10_000, intervalMs: 100, what: 'the renewed certificate' });

  writeLines(dir, N + 1, 2 * N);
  await waitForCount(dir, 2 * N, 60_000, [e, p]);
  await new Promise((r) => setTimeout(r, 200));
  await stop(e, p);
  assertDelivered(dir, 2 * N);
});
