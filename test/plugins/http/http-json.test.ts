// json_lines and json: the records arrive exactly, as NDJSON or one array; gzip, headers and
// basic / bearer auth reach the server; an unknown option is rejected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { runCli } from '../../helpers/cli.js';
import { tempDir, writeConfig } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { startAgent } from './agent.js';
import { startReceiver } from './receiver.js';

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

test('json_lines: every record once, in order, as NDJSON with date and tag', async (t) => {
  const rx = await startReceiver(t);
  const a = await startAgent(t, `url: '${rx.url}/ingest', headers: { X-Tenant: acme }`, { samples: 20 });
  await rx.waitFor((r) => r.reduce((n, x) => n + x.text.split('\n').length - 1, 0) >= 20);
  const docs = rx.requests.flatMap((r) => {
    assert.equal(r.path, '/ingest');
    assert.equal(r.headers['content-type'], 'application/x-ndjson');
    assert.equal(r.headers['x-tenant'], 'acme');
    assert.equal(r.headers.connection, 'keep-alive');
    assert.ok(r.text.endsWith('\n'));
    return r.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { date: string; tag: string; log: string });
  });
  assert.deepEqual(
    docs.map((d) => d.log),
    lines(20),
  );
  for (const d of docs) {
    assert.equal(d.tag, 'app');
    assert.match(d.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  }
  await waitFor(async () => (await a.counters()).records_out === 20, { what: 'records_out 20' });
  assert.equal(await a.stop(), 0);
});

test('json: one array per request; object bodies keep their fields; include_meta adds src and seq', async (t) => {
  const rx = await startReceiver(t);
  const a = await startAgent(t, `url: '${rx.url}', format: json, include_meta: true, time_key: ts, tag_key: ''`, {
    samples: 3,
    dummy: '{"msg":"m${seq}","n":${seq}}',
  });
  await rx.waitFor((r) => r.reduce((n, x) => n + (JSON.parse(x.text) as unknown[]).length, 0) >= 3);
  const docs = rx.requests.flatMap((r) => {
    assert.equal(r.headers['content-type'], 'application/json');
    return JSON.parse(r.text) as { ts: string; msg: string; n: number; meta: { src: string; seq: number }; tag?: string }[];
  });
  assert.deepEqual(
    docs.map((d) => [d.msg, d.n, d.meta.seq, 'tag' in d, typeof d.ts]),
    [
      ['m1', 1, 1, false, 'string'],
      ['m2', 2, 2, false, 'string'],
      ['m3', 3, 3, false, 'string'],
    ],
  );
  assert.equal(await a.stop(), 0);
});

test('compress: gzip sends a gzip body with Content-Encoding: gzip', async (t) => {
  const rx = await startReceiver(t);
  const a = await startAgent(t, `url: '${rx.url}', compress: gzip`, { samples: 4 });
  await rx.waitFor((r) => r.reduce((n, x) => n + x.text.split('\n').length - 1, 0) >= 4);
  for (const r of rx.requests) {
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(r.raw).toString(), r.text);
    assert.equal(Number(r.headers['content-length']), r.raw.length);
  }
  assert.deepEqual(
    rx.requests.flatMap((r) =>
      r.text
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { log: string }).log),
    ),
    lines(4),
  );
  assert.equal(await a.stop(), 0);
});

test('auth: basic and bearer send the Authorization header (credentials from the environment)', async (t) => {
  const rx = await startReceiver(t);
  const basic = await startAgent(t, `url: '${rx.url}', auth: { type: basic, user: qlog, password: '\${PW}' }`, { samples: 1, env: { PW: 's3cret' } });
  await rx.waitFor((r) => r.length >= 1);
  assert.equal(rx.requests[0]!.headers.authorization, `Basic ${Buffer.from('qlog:s3cret').toString('base64')}`);
  assert.equal(await basic.stop(), 0);
  const bearer = await startAgent(t, `url: '${rx.url}', auth: { type: bearer, token: tok-123 }`, { samples: 1 });
  await rx.waitFor((r) => r.length >= 2);
  assert.equal(rx.requests[1]!.headers.authorization, 'Bearer tok-123');
  assert.equal(await bearer.stop(), 0);
});

test('config: an unknown option and inconsistent settings are rejected with their position', async (t) => {
  const dir = tempDir(t);
  const cases: [string, RegExp][] = [
    [`url: 'http://x', formt: json`, /outputs\[0\]\.formt: unknown key "formt" \(did you mean "format"\?\)/],
    [`url: 'ftp://x'`, /outputs\[0\]\.url: expected an http:\/\/ or https:\/\/ URL, found "ftp:\/\/x"/],
    [`url: 'http://x', auth: { type: bearer }`, /outputs\[0\]\.auth: type bearer needs a token/],
    [`url: 'http://x', format: loki, labels: '1bad=x'`, /outputs\[0\]\.labels: expected name=template pairs/],
    [`url: 'http://x', format: elasticsearch, index: 'i-\${}'`, /outputs\[0\]\.index: empty placeholder/],
    [
      `url: 'http://x', tls: { ca_file: ca.pem }`,
      /outputs\[0\]\.tls: expected an https:\/\/ url with the tls options, found http:\/\/x \(write https:\/\/x, or remove tls\)/,
    ],
    [`url: 'https://x', tls: { crt_file: c.pem }`, /outputs\[0\]\.tls: expected tls\.crt_file and tls\.key_file together/],
    [`url: 'https://x', tls: { min_version: TLSv1.1 }`, /outputs\[0\]\.tls\.min_version/],
  ];
  for (const [entry, re] of cases) {
    writeConfig(dir, 'bad.yaml', `pipeline:\n  inputs: [{ name: dummy }]\n  outputs:\n    - { name: http, ${entry} }\n`);
    const r = await runCli(['validate', 'bad.yaml'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
  }
});
