// Backpressure (a full pipeline stops the reading of sockets) and connect mode (the parent dials
// the enclave, and redials after the connection is lost).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { createHarness } from '../../../core/testing/index.js';
import vsock from '../../../plugins/vsock/index.js';
import { encodeEntries, encodePackedForward, SenderSession } from '../../../core/forward/index.js';
import { listen } from '../../../core/transport/index.js';
import type { LogRecord } from '../../../core/record.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { sender } from './client.js';

test('a full pipeline pauses the sockets; resume reads on', async (t) => {
  const dir = tempDir(t);
  const uri = `unix://${join(dir, 'in.sock')}`;
  const h = await createHarness(vsock, { options: { listen: uri }, output: { workers: 8 } });
  t.after(() => void h.stop({ grace: 200 }));
  const s = await sender(uri);
  h.pause();
  s.send('c1', ['one']);
  await h.collect({ count: 1 });
  await waitFor(() => h.paused, { what: 'input paused' });
  s.send('c2', ['two']);
  assert.equal((await h.collect({ ms: 200 })).length, 0, 'nothing read while paused');
  h.resume();
  const got = await h.collect({ count: 1 });
  assert.equal(got[0]!.body, 'two');
  s.close();
});

test('connect mode: dials the listening sender and redials after the connection drops', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'enclave.sock');
  const conns: SenderSession[] = [];
  const acks: string[] = [];
  const l = await listen(`unix://${path}`, (stream: Duplex) => {
    const s = new SenderSession(stream, { selfHostname: 'enclave', heartbeatMs: 0, ackTimeoutMs: 10_000, onAck: (id) => acks.push(id), onClose: () => {} });
    conns.push(s);
    void s.ready.then(() => {
      const n = conns.length;
      const records: LogRecord[] = [{ time: 1n, tag: 'app', body: `hello ${n}`, meta: {} }];
      s.send(encodePackedForward('app', encodeEntries(records), { chunk: `c${n}`, size: 1 }), `c${n}`);
    });
  });
  t.after(() => void l.close());
  const h = await createHarness(vsock, { options: { connect: `unix://${path}`, reconnect_base: '20ms', reconnect_max: '100ms' } });
  t.after(() => void h.stop({ grace: 200 }));
  assert.equal((await h.collect({ count: 1 }))[0]!.body, 'hello 1');
  await waitFor(() => acks.length === 1, { what: 'ack 1' });
  conns[0]!.close('cut');
  assert.equal((await h.collect({ count: 1 }))[0]!.body, 'hello 2');
  await waitFor(() => acks.length === 2, { what: 'ack 2' });
  assert.equal(h.counters.connections, 2);
  assert.match(String(h.received[0]!.meta.peer), /^unix:.*enclave\.sock$/);
});

test('connect mode: a sender that is not up yet is retried with backoff', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'late.sock');
  const h = await createHarness(vsock, { options: { connect: `unix://${path}`, reconnect_base: '20ms', reconnect_max: '50ms' } });
  t.after(() => void h.stop({ grace: 200 }));
  await waitFor(() => (h.counters.connect_errors ?? 0) >= 3, { what: 'a few failed dials' });
  let got = 0;
  const l = await listen(`unix://${path}`, () => got++);
  t.after(() => void l.close());
  await waitFor(() => got === 1, { what: 'connected once up' });
  assert.equal(h.logs.filter((x) => /cannot connect/.test(String(x.msg)) && x.level === 'warn').length, 1, 'one warning, then debug');
});

test('listen on vsock://any:PORT (only listening: no AF_VSOCK connect in tests)', async (t) => {
  const { loadVsock } = await import('../../../core/transport/index.js');
  try {
    await loadVsock();
  } catch (e) {
    return t.skip((e as Error).message);
  }
  const h = await createHarness(vsock, { options: { listen: 'vsock://any:50777', allowed_cids: [16] } });
  assert.ok(h.logs.some((l) => /listening on vsock:\/\/any:50777/.test(String(l.msg))));
  await h.stop({ grace: 100 });
  // The port is free again after stop.
  const h2 = await createHarness(vsock, { options: { listen: 'vsock://any:50777' } });
  await h2.stop({ grace: 100 });
});
