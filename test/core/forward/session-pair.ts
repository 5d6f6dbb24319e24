/**
 * Two ends of one Forward connection for session tests: `pair` gives connected unix sockets,
 * `link` a ReceiverSession on one and a SenderSession on the other, recording what each sees.
 */
import net from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { encodeEntries, encodePackedForward, type DecodedEvents } from '../../../core/forward/codec.js';
import { ReceiverSession, type ReceiverSessionOptions } from '../../../core/forward/receiver.js';
import { SenderSession, type SenderSessionOptions } from '../../../core/forward/sender.js';
import type { LogRecord } from '../../../core/record.js';

/** A connected pair of unix sockets. */
export async function pair(dir: string, name: string): Promise<[net.Socket, net.Socket]> {
  const path = join(dir, name);
  return new Promise((resolve) => {
    const srv = net.createServer((a) => {
      srv.close();
      resolve([a, b]);
    });
    let b: net.Socket;
    srv.listen(path, () => (b = net.connect(path)));
  });
}

export const rec = (n: number): LogRecord => ({ time: BigInt(n) * 1_000_000_000n, tag: 't', body: `line ${n}`, meta: { src: 's', seq: n } });

export function frame(id: string, n = 3): Buffer {
  const rs = Array.from({ length: n }, (_, i) => rec(i + 1));
  return encodePackedForward('t', encodeEntries(rs), { chunk: id, size: n });
}

export interface Ends {
  events: DecodedEvents[];
  acks: string[];
  recvClosed: { reason?: string; dropped: boolean }[];
  sendClosed: (string | undefined)[];
  receiver: ReceiverSession;
  sender: SenderSession;
}

export async function link(
  t: { after(f: () => void): void },
  r: Partial<ReceiverSessionOptions> = {},
  s: Partial<SenderSessionOptions> = {},
  autoAck = true,
): Promise<Ends> {
  const dir = tempDir(t);
  const [a, b] = await pair(dir, 's.sock');
  t.after(() => {
    a.destroy();
    b.destroy();
  });
  const e: Partial<Ends> & Pick<Ends, 'events' | 'acks' | 'recvClosed' | 'sendClosed'> = { events: [], acks: [], recvClosed: [], sendClosed: [] };
  e.receiver = new ReceiverSession(
    a,
    { transport: 'unix', label: 'unix:test#1' },
    {
      selfHostname: 'parent',
      maxFrameSize: 1 << 20,
      onEvents: (ev, sess) => {
        e.events.push(ev);
        if (autoAck && ev.ackValue !== undefined) sess.ack(ev.ackValue);
      },
      onClose: (_s, reason, dropped) => e.recvClosed.push({ reason, dropped }),
      ...r,
    },
  );
  e.sender = new SenderSession(b, {
    selfHostname: 'enclave',
    heartbeatMs: 0,
    ackTimeoutMs: 5000,
    onAck: (id) => e.acks.push(id),
    onClose: (reason) => e.sendClosed.push(reason),
    ...s,
  });
  return e as Ends;
}
