import { test } from 'node:test';
import assert from 'node:assert/strict';
import parser from '../../../plugins/parser/index.js';
import { ConfigError, createHarness } from '../../../core/testing/index.js';

const harness = (options: Record<string, unknown>) => createHarness(parser, { options, tag: 'app' });
const NGINX = '93.184.216.34 - - [10/Oct/2000:13:55:36 -0700] "GET /index.html HTTP/1.1" 200 612 "-" "curl/8.0"';
const NGINX_FIELDS = {
  remote: '93.184.216.34',
  host: '-',
  user: '-',
  method: 'GET',
  path: '/index.html',
  code: 200,
  size: 612,
  referer: '-',
  agent: 'curl/8.0',
};

test('line records are parsed whole; the record time becomes the parsed time', async (t) => {
  const h = await harness({ parser: 'nginx' });
  t.after(() => h.stop());
  const out = await h.filter([NGINX]);
  assert.deepEqual(out[0]!.body, NGINX_FIELDS);
  assert.equal(out[0]!.time, BigInt(Date.parse('2000-10-10T20:55:36Z')) * 1_000_000n);
});

test('a line no parser reads stays as it was and counts parse_errors; the first parser that reads wins', async (t) => {
  const h = await harness({ parser: ['json', 'logfmt'] });
  t.after(() => h.stop());
  const out = await h.filter(['{"a":1}', 'a=1 b=2', '=broken', '']);
  assert.deepEqual(
    out.map((r) => r.body),
    [{ a: 1 }, { a: '1', b: '2' }, '=broken', ''],
  );
  assert.equal(h.counters.parse_errors, 2);
});

test('object records: key_name, reserve_data, preserve_key', async (t) => {
  const rec = { log: '2023-10-06T00:17:09.669794202Z stdout F hello', kubernetes: { pod: 'p' } };
  const cri = { time: '2023-10-06T00:17:09.669794202Z', stream: 'stdout', logtag: 'F', message: 'hello' };
  const plain = await harness({ parser: 'cri' });
  t.after(() => plain.stop());
  assert.deepEqual((await plain.filter([structuredClone(rec)]))[0]!.body, cri);
  const reserve = await harness({ parser: 'cri', reserve_data: true });
  t.after(() => reserve.stop());
  assert.deepEqual((await reserve.filter([structuredClone(rec)]))[0]!.body, { kubernetes: { pod: 'p' }, ...cri });
  const both = await harness({ parser: 'cri', reserve_data: true, preserve_key: true });
  t.after(() => both.stop());
  assert.deepEqual((await both.filter([structuredClone(rec)]))[0]!.body, { log: rec.log, kubernetes: { pod: 'p' }, ...cri });
  const key = await harness({ parser: 'json', key_name: 'payload' });
  t.after(() => key.stop());
  const out = await key.filter([{ payload: '{"x":1}' }, { other: 1 }]);
  assert.deepEqual(
    out.map((r) => r.body),
    [{ x: 1 }, { other: 1 }],
  );
  assert.equal(key.counters.parser_skipped, 1);
});

test('an unknown parser name is a config error', async () => {
  await assert.rejects(
    harness({ parser: ['json', 'ngnix'] }),
    (e: unknown) => e instanceof ConfigError && /parser\[1\]: unknown parser "ngnix"/.test(e.message),
  );
});

test('unknown option is rejected', async () => {
  await assert.rejects(harness({ parser: 'json', keyname: 'x' }), (e: unknown) => e instanceof ConfigError && /unknown key "keyname"/.test(e.message));
});
