/**
 * Fault cases for the nats output, on the relay: enclave (tail -> vsock-forward) -> parent
 * (vsock -> rotated-file + nats) -> a real nats-server with JetStream. The stream is read back
 * with the NATS client: every written line must be in it exactly once (Nats-Msg-Id src:seq lets
 * JetStream drop what is sent again), or, while the stream refuses messages, the refusal is
 * reported and nothing acked is lost. Skipped when nats-server is not installed.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { type CheckResult, checkLines } from '../helpers/checker.js';
import { type NatsServer, natsServerAvailable, startNatsServer } from '../helpers/nats-server.js';
import { waitFor } from '../helpers/wait.js';
import { assertExact, report } from './lib/assert.js';
import { LINE_PREFIX, Rig, sleep } from './lib/rig.js';

const skip = natsServerAvailable() ? false : 'nats-server is not installed (apt-get install nats-server)';
const RATE = 5000;
const STREAM = 'LOGS';

async function natsRig(t: TestContext, stream: Record<string, unknown> = {}): Promise<{ rig: Rig; srv: NatsServer }> {
  const srv = await startNatsServer(t);
  await srv.addStream({ name: STREAM, subjects: ['logs.>'], ...stream });
  const rig = new Rig(t, {
    parentOutputs: [
      { name: 'nats', alias: 'nats', match: '*', servers: [srv.url], stream: STREAM, reconnect_wait: '200ms', publish_timeout: '2s', retry_max: '1s' },
    ],
  });
  return { rig, srv };
}

/** The lines in the stream, checked against [first, last]. */
async function streamCheck(srv: NatsServer, first: number, last: number): Promise<CheckResult> {
  const msgs = await srv.read(STREAM);
  return checkLines(
    msgs.map((m) => m.data),
    LINE_PREFIX,
    first,
    last,
  );
}

/** Wait until the stream holds at least as many messages as lines were written, then check them. */
async function waitStream(rig: Rig, srv: NatsServer, first: number, last: number, ms = 30_000): Promise<CheckResult> {
  const want = last - first + 1;
  await waitFor(async () => (await srv.count(STREAM)) >= want, {
    timeoutMs: ms,
    intervalMs: 250,
    what: () => `${want} messages in the stream\n${rig.problems('parent')}`,
  }).catch(() => undefined);
  return streamCheck(srv, first, last);
}

test('N1. SIGKILL of the parent (vsock -> nats) mid-stream, 3 times: the stream holds every line once', { skip }, async (t) => {
  const { rig, srv } = await natsRig(t);
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 8 * RATE });
  await rig.killLoop('parent');
  const w = await wp;
  const s = await waitStream(rig, srv, w.first, w.last);
  await rig.waitArrived(w.first, w.last, 30_000);
  const r = await rig.finish(w.first, w.last);
  report(t, 'stream after 3 SIGKILLs of the parent', s);
  assertExact(rig, s, 'stream');
  assertExact(rig, r, 'file');
});

test('N2. nats-server SIGKILLed and restarted mid-stream, twice: the stream holds every line once', { skip }, async (t) => {
  const { rig, srv } = await natsRig(t);
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 6 * RATE });
  for (const at of [1200, 1500]) {
    await sleep(at);
    await srv.kill();
    await sleep(500);
    await srv.start();
  }
  const w = await wp;
  const s = await waitStream(rig, srv, w.first, w.last);
  const r = await rig.finish(w.first, w.last);
  report(t, 'stream after 2 restarts of nats-server', s);
  assertExact(rig, s, 'stream');
  assertExact(rig, r, 'file');
  assert.match(rig.parent.stderr(), /lost the connection to NATS at/);
  assert.match(rig.parent.stderr(), /reconnected to NATS at/);
});

test('N3. the stream fills up (max_msgs, discard new) mid-stream: reported, nothing lost; once raised, every line once', { skip }, async (t) => {
  const LIMIT = 2 * RATE;
  const { rig, srv } = await natsRig(t, { max_msgs: LIMIT, discard: 'new' });
  await rig.start();
  const w = await rig.writer({ rate: RATE, total: 4 * RATE });
  await waitFor(() => /stream \\"LOGS\\" is full and refused/.test(rig.parent.stderr()), {
    timeoutMs: 20_000,
    what: () => `the full stream to be reported\n${rig.problems('parent')}`,
  });
  // While it is full: exactly the first LIMIT lines, in order, none twice.
  const full = await streamCheck(srv, w.first, w.first + LIMIT - 1);
  report(t, 'stream while full', full);
  assertExact(rig, full, 'stream while full');
  assert.equal(await srv.count(STREAM), LIMIT);
  await srv.updateStream(STREAM, { subjects: ['logs.>'], max_msgs: -1, discard: 'new' });
  const s = await waitStream(rig, srv, w.first, w.last);
  const r = await rig.finish(w.first, w.last);
  report(t, 'stream after the limit was raised', s);
  assertExact(rig, s, 'stream');
  assertExact(rig, r, 'file');
});
