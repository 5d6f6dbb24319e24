import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress, peerOfAddress, TransportError, VSOCK_CID_ANY } from '../../../core/transport/index.js';

test('valid addresses parse', () => {
  assert.deepEqual(parseAddress('vsock://3:6000'), { transport: 'vsock', cid: 3, port: 6000, uri: 'vsock://3:6000' });
  assert.deepEqual(parseAddress('vsock://ANY:6000'), { transport: 'vsock', cid: VSOCK_CID_ANY, port: 6000, uri: 'vsock://any:6000' });
  assert.deepEqual(parseAddress('unix:///run/q.sock'), { transport: 'unix', path: '/run/q.sock', uri: 'unix:///run/q.sock' });
  assert.deepEqual(parseAddress('tcp://127.0.0.1:24224'), { transport: 'tcp', host: '127.0.0.1', port: 24224, uri: 'tcp://127.0.0.1:24224' });
  assert.deepEqual(parseAddress('tcp://[::1]:0'), { transport: 'tcp', host: '::1', port: 0, uri: 'tcp://[::1]:0' });
  assert.deepEqual(parseAddress('tcp://parent.local:5170'), { transport: 'tcp', host: 'parent.local', port: 5170, uri: 'tcp://parent.local:5170' });
  assert.deepEqual(parseAddress('vsock+unix:///var/run/fc/v.sock:52'), {
    transport: 'hybrid',
    path: '/var/run/fc/v.sock',
    port: 52,
    uri: 'vsock+unix:///var/run/fc/v.sock:52',
  });
});

test('invalid addresses say what was expected, what was found, with an example', () => {
  const cases: [string, RegExp][] = [
    ['vsock://x:1', /expected a CID .* found "x" \(example: vsock:\/\/3:6000/],
    ['vsock://3', /expected vsock:\/\/CID:PORT/],
    ['vsock://3:99999999999', /expected a port number/],
    ['unix://relative.sock', /expected an absolute socket path/],
    [`unix:///${'a'.repeat(200)}`, /at most 107 bytes/],
    ['tcp://::1:80', /IPv6 in brackets/],
    ['tcp://h:70000', /expected a port number \(0-65535\)/],
    ['vsock+unix:///v.sock', /vsock\+unix:\/\/\/PATH:PORT/],
    ['http://x:1', /expected one of the schemes .* found "http:\/\/"/],
    ['localhost:24224', /expected scheme:\/\/address, found no scheme/],
  ];
  for (const [uri, re] of cases) {
    assert.throws(
      () => parseAddress(uri),
      (e: unknown) => e instanceof TransportError && e.code === 'QLOG_ERR_TRANSPORT_ADDRESS' && re.test(e.message) && e.message.includes(JSON.stringify(uri)),
      uri,
    );
  }
});

test('peer identity of a connect address', () => {
  assert.deepEqual(peerOfAddress(parseAddress('vsock://16:6000')), { transport: 'vsock', cid: 16, port: 6000, label: 'vsock:16:6000' });
  assert.equal(peerOfAddress(parseAddress('unix:///tmp/a.sock')).label, 'unix:/tmp/a.sock');
  assert.equal(peerOfAddress(parseAddress('tcp://10.0.0.1:1')).label, 'tcp:10.0.0.1:1');
});
