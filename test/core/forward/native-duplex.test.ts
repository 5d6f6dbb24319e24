// The Forward sessions over the vsock addon's Duplex (the stream every vsock:// connection is),
// on an AF_UNIX socketpair made by the addon: same code path, no AF_VSOCK connect needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { encodeEntries, encodePackedForward, ReceiverSession, SenderSession } from '../../../core/forward/index.js';
import type { LogRecord } from '../../../core/record.js';
import { waitFor } from '../../helpers/wait.js';

async function socketPair(): Promise<[Duplex, Duplex] | string> {
  try {
    const m = (await import('../../../core/transport/vsock-native.js')) as { unixSocketPair(): [Duplex, Duplex] };
    return m.unixSocketPair();
  } catch (e) {
    return `vsock addon not loadable: ${(e as Error).message}`;
  }
}

test('sessions over the native Duplex: 200 chunks, acks, receiver backpressure, shared_key', async (t) => {
  const pair = await socketPair();
  if (typeof pair === 'string') return t.skip(pair);
  const [a, b] = pair;
  t.after(() => {
    a.destroy();
    b.destroy();
  });
  const seen: number[] = [];
  let frames = 0;
  const recv = new ReceiverSession(
    a,
    { transport: 'vsock', cid: 16, port: 1, label: 'vsock:16:1' },
    {
      sharedKey: 'k',
      selfHostname: 'parent',
      maxFrameSize: 4 << 20,
      onEvents: (ev, s) => {
        for (const r of ev.records) seen.push(r.meta.seq as number);
        // Every 10th frame, stop reading for a while: the sender's writes back up in the addon.
        if (++frames % 10 === 0) {
          s.pause();
          setTimeout(() => {
            s.ack(ev.ackValue);
            s.resume();
          }, 30);
        } else s.ack(ev.ackValue);
      },
      onClose: () => {},
    },
  );
  const acks: string[] = [];
  const send = new SenderSession(b, {
    sharedKey: 'k',
    selfHostname: 'enclave',
    heartbeatMs: 0,
    ackTimeoutMs: 20_000,
    onAck: (id) => acks.push(id),
    onClose: () => {},
  });
  await send.ready;
  const N = 200;
  const PER = 1000;
  for (let c = 0; c < N; c++) {
    const records: LogRecord[] = Array.from({ length: PER }, (_, i) => ({
      time: BigInt(c * PER + i),
      tag: 'app',
      body: `line ${c * PER + i} ${'p'.repeat(100)}`,
      meta: { seq: c * PER + i },
    }));
    send.send(encodePackedForward('app', encodeEntries(records), { chunk: `c${c}`, size: PER }), `c${c}`);
  }
  await waitFor(() => acks.length === N, { what: `${N} acks`, timeoutMs: 30_000 });
  assert.equal(seen.length, N * PER);
  for (let i = 0; i < seen.length; i++) if (seen[i] !== i) assert.fail(`record ${i} out of order: ${seen[i]}`);
  assert.equal(recv.clientHostname, 'enclave');
  recv.close('done');
});
