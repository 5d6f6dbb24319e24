// https with a self-signed certificate made here: trusted through tls.ca_file, refused without
// it (the request error is logged and retried, nothing is acknowledged).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { startAgent } from './agent.js';
import { startReceiver } from './receiver.js';

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

test('https: a missing ca_file stops the configuration with QLOG_ERR_HTTP_TLS_FILE', async (t) => {
  const rx = await startReceiver(t, { tls: selfSignedBuffers(tempDir(t)) });
  const a = await startAgent(t, `url: '${rx.url}', tls: { ca_file: missing-ca.pem }`, { samples: 1 });
  const { code } = await a.cli.exited;
  assert.equal(code, 1);
  assert.match(a.cli.stderr.join('\n'), /cannot read tls\.ca_file .*missing-ca\.pem \(ENOENT\)/);
});

function selfSignedBuffers(dir: string): { key: Buffer; cert: Buffer } {
  const { key, cert } = selfSigned(dir);
  return { key: readFileSync(key), cert: readFileSync(cert) };
}
