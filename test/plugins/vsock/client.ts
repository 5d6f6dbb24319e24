/** A minimal Forward sender for tests of the vsock input: connect, send chunks, see acks. */
import { connect } from '../../../core/transport/index.js';
import { encodeEntries, encodePackedForward, SenderSession } from '../../../core/forward/index.js';
import type { LogRecord } from '../../../core/record.js';

export interface TestSender {
  session: SenderSession;
  acks: string[];
  closed: (string | undefined)[];
  send(id: string, lines: string[], tag?: string, meta?: (i: number) => Record<string, unknown>): void;
  close(): void;
}

export async function sender(uri: string, opts: { sharedKey?: string; username?: string; password?: string; heartbeatMs?: number } = {}): Promise<TestSender> {
  const stream = await connect(uri, { timeoutMs: 2000 });
  const acks: string[] = [];
  const closed: (string | undefined)[] = [];
  const session = new SenderSession(stream, {
    sharedKey: opts.sharedKey,
    username: opts.username,
    password: opts.password,
    selfHostname: 'test-sender',
    heartbeatMs: opts.heartbeatMs ?? 0,
    ackTimeoutMs: 30_000,
    onAck: (id) => acks.push(id),
    onClose: (r) => closed.push(r),
  });
  await session.ready;
  return {
    session,
    acks,
    closed,
    send(id, lines, tag = 'app', meta) {
      const records: LogRecord[] = lines.map((l, i) => ({ time: 1_700_000_000_000_000_000n + BigInt(i), tag, body: l, meta: meta ? meta(i) : {} }));
      session.send(encodePackedForward(tag, encodeEntries(records), { chunk: id, size: records.length }), id);
    },
    close() {
      session.close(undefined);
    },
  };
}
