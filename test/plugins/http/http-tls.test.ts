// https through the shared `tls` map (core/transport): a self-signed certificate trusted through
// tls.ca_file, refused without it or with another CA (the request error, in the transport's words,
// is logged and retried: nothing is acknowledged, nothing dropped), and mutual TLS.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasOpenssl, makeCerts } from '../../helpers/certs.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { startAgent } from './agent.js';
import { startReceiver } from './receiver.js';

const skip = hasOpenssl() ? false : 'the openssl CLI is not installed';

function selfSigned(dir: string): { key: string; cert: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=qlog-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { key, cert };
}

test('https: the server certificate is trusted through tls.ca_file (TLS 1.3 minimum)', async (t) => {
  const dir = tempDir(t);
  const { key, cert } = selfSigned(dir);
  const rx = await startReceiver(t, { tls: { key: readFileSync(key), cert: readFileSync(cert) } });
  const a = await startAgent(t, `url: '${rx.url}', tls: { ca_file: '${cert}', min_version: TLSv1.3 }`, { samples: 3 });
  await rx.waitFor((r) => r.reduce((n, x) => n + x.text.split('\n').length - 1, 0) >= 3);
  assert.ok(rx.url.startsWith('https://'));
  assert.equal(await a.stop(), 0);
});

test('https: without the CA the request fails, is logged and retried; nothing is acknowledged', async (t) => {
  const dir = tempDir(t);
  const { key, cert } = selfSigned(dir);
  const rx = await startReceiver(t, { tls: { key: readFileSync(key), cert: readFileSync(cert) } });
  const a = await startAgent(t, `url: '${rx.url}'`, { samples: 1 });
  await a.cli.waitForLine((l) => l.includes('request to https://127.0.0.1') && l.includes('SELF_SIGNED_CERT'), { stream: 'stderr' });
  await waitFor(async () => ((await a.counters()).retries ?? 0) >= 1, { what: 'a retry' });
  const c = await a.counters();
  assert.equal(c.records_out, 0);
  assert.equal(rx.requests.length, 0);
  assert.equal(await a.stop(), 0);
});

test('https: a missing ca_file stops the start with QLOG_ERR_TRANSPORT_TLS_FILE, the path resolved against the config directory', async (t) => {
  const rx = await startReceiver(t, { tls: selfSignedBuffers(tempDir(t)) });
  const a = await startAgent(t, `url: '${rx.url}', tls: { ca_file: missing-ca.pem }`, { samples: 1 });
  const { code } = await a.cli.exited;
  assert.equal(code, 1);
  assert.ok(a.cli.stderr.join('\n').includes(`cannot read tls.ca_file ${join(a.dir, 'missing-ca.pem')}: no such file`), a.cli.stderr.join('\n'));
});

test('https: a certificate of another CA is refused in the transport words; records are retried, not dropped', { skip }, async (t) => {
  const c = makeCerts(tempDir(t));
  const rx = await startReceiver(t, { tls: { key: readFileSync(c.server.key), cert: readFileSync(c.server.crt) } });
  const a = await startAgent(t, `url: '${rx.url}', tls: { ca_file: '${c.otherCa}' }`, { samples: 2 });
  const line = await a.cli.waitForLine((l) => l.includes('request to https://127.0.0.1'), { stream: 'stderr' });
  assert.ok(line.includes(`is not signed by a CA in tls.ca_file ${c.otherCa}`), line);
  await waitFor(async () => ((await a.counters()).retries ?? 0) >= 2, { what: 'two retries' });
  const n = await a.counters();
  assert.equal(n.records_out ?? 0, 0);
  assert.equal(n.dropped_records ?? 0, 0);
  assert.equal(rx.requests.length, 0);
  assert.equal(await a.stop(), 0);
});

test('https: mutual TLS sends crt_file/key_file; without them the server refuses', { skip }, async (t) => {
  const c = makeCerts(tempDir(t));
  const tls = { key: readFileSync(c.server.key), cert: readFileSync(c.server.crt), ca: readFileSync(c.ca) };
  const rx = await startReceiver(t, { tls });
  const url = rx.url.replace('127.0.0.1', 'localhost');
  const a = await startAgent(t, `url: '${url}', tls: { ca_file: '${c.ca}', crt_file: '${c.client.crt}', key_file: '${c.client.key}' }`, { samples: 3 });
  await rx.waitFor((r) => r.reduce((n, x) => n + x.text.split('\n').length - 1, 0) >= 3);
  assert.deepEqual([...new Set(rx.requests.map((r) => r.clientCn))], ['enclave-1']);
  assert.equal(await a.stop(), 0);

  const before = rx.requests.length;
  const b = await startAgent(t, `url: '${url}', tls: { ca_file: '${c.ca}' }`, { samples: 1 });
  const line = await b.cli.waitForLine((l) => l.includes('request to https://localhost'), { stream: 'stderr' });
  assert.match(line, /requires a client certificate|closed the connection during the TLS handshake/);
  assert.equal((await b.counters()).records_out ?? 0, 0);
  assert.equal(rx.requests.length, before);
  assert.equal(await b.stop(), 0);
});

function selfSignedBuffers(dir: string): { key: Buffer; cert: Buffer } {
  const { key, cert } = selfSigned(dir);
  return { key: readFileSync(key), cert: readFileSync(cert) };
}
