/**
 * Fault cases 7 and 11: the link between the agents. The transport is closed under both agents
 * ten times (unacknowledged chunks are resent with the same ids; the parent acks a chunk it
 * already has without writing it again), and rogue clients send garbage to the parent's socket
 * (they are dropped; the enclave's stream goes on untouched).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Rig, sleep } from './lib/rig.js';
import { waitFor, withTimeout } from '../helpers/wait.js';
import { assertExact, report } from './lib/assert.js';

const RATE = 5000;

async function cutTenTimes(t: TestContext, layout: 'parent-listens' | 'enclave-listens'): Promise<void> {
  const rig = new Rig(t, { proxy: true, layout });
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 7 * RATE });
  for (let i = 0; i < 10; i++) {
    // Wait for the agents to be connected again (and some traffic to flow), then cut.
    await waitFor(() => rig.proxy!.connections > 0, { timeoutMs: 10_000, intervalMs: 20, what: `a reconnection before cut ${i + 1}` });
    await sleep(250 + Math.floor(Math.random() * 300));
    rig.proxy!.cut();
  }
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 30_000);
  const enclave = (await rig.metrics('enclave')).fwd!;
  const parent = await rig.metrics('parent');
  const r = await rig.finish(w.first, w.last);
  report(t, `link cut 10 times (${layout})`, r);
  t.diagnostic(
    `cuts ${rig.proxy!.cuts}; enclave disconnects ${enclave.disconnects}, resent chunks ${enclave.resent_chunks}; parent duplicate chunks ${parent.link?.duplicate_chunks ?? 0}, duplicate lines skipped ${parent.file?.duplicates_skipped ?? 0}`,
  );
  assertExact(rig, r);
  assert.equal(rig.proxy!.cuts, 10);
  assert.ok((enclave.disconnects ?? 0) >= 10, `the enclave saw the cuts (disconnects ${enclave.disconnects})`);
}

test('7. the link cut 10 times under the agents: 0 lost, 0 duplicated', (t) => cutTenTimes(t, 'parent-listens'));

test("7b. the link cut 10 times, qlog's layout (the enclave listens, the parent connects): 0 lost, 0 duplicated", (t) => cutTenTimes(t, 'enclave-listens'));

/** Connect to the parent's socket, send `chunks` (one write each, `gapMs` apart); resolves how the connection ended. */
async function rogue(path: string, chunks: Buffer[], gapMs = 20, waitMs = 5000): Promise<{ closedByPeer: boolean; sent: number }> {
  const s: Socket = createConnection(path);
  s.on('error', () => undefined);
  s.resume();
  await new Promise<void>((r, j) => {
    s.once('connect', () => r());
    s.once('error', j);
  });
  let closed = false;
  const closing = new Promise<void>((r) =>
    s.once('close', () => {
      closed = true;
      r();
    }),
  );
  let sent = 0;
  for (const c of chunks) {
    if (closed || s.destroyed) break;
    await new Promise<void>((r) => s.write(c, () => r()));
    sent += c.length;
    await sleep(gapMs); // pacing: one write per gap, like a slow client
  }
  // Not being closed within waitMs is an outcome here (a client the parent keeps), not a failure.
  await withTimeout(closing, waitMs, 'the parent to close the connection').catch(() => undefined);
  const closedByPeer = closed;
  s.destroy();
  return { closedByPeer, sent };
}

test('11. rogue clients (random bytes, oversized frames, non-Forward messages) are dropped; the stream is unaffected', async (t) => {
  const rig = new Rig(t, { vsock: { max_frame_size: '1MiB' } });
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 6 * RATE });
  await sleep(500);
  const MiB = 1024 * 1024;
  const cases: [string, Buffer[]][] = [
    // 0xc1 is never used in msgpack.
    ['invalid msgpack byte', [Buffer.from([0xc1]), randomBytes(4096)]],
    ['random bytes', Array.from({ length: 64 }, () => randomBytes(16 * 1024))],
    // [tag, <bin32 of 64 MiB>, ...]: refused from its header, before the payload is buffered.
    [
      'oversized frame (header)',
      [Buffer.from([0x93, 0xa3, 0x61, 0x70, 0x70, 0xc6, 0x04, 0x00, 0x00, 0x00]), ...Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, 0x41))],
    ],
    // A whole 2 MiB str frame, sent in one go.
    ['oversized frame (whole)', [Buffer.concat([Buffer.from([0x93, 0xa3, 0x61, 0x70, 0x70, 0xdb, 0x00, 0x20, 0x00, 0x00]), Buffer.alloc(2 * MiB, 0x41)])]],
    // Valid msgpack, not a Forward message.
    ['a msgpack string', [Buffer.from([0xa5, 0x68, 0x65, 0x6c, 0x6c, 0x6f])]],
    ['a msgpack map', [Buffer.from([0x81, 0xa1, 0x61, 0x01])]],
    // Nesting 100 deep.
    ['deep nesting', [Buffer.alloc(100, 0x91)]],
  ];
  for (const [what, chunks] of cases) {
    const r = await rogue(rig.listenSock, chunks);
    t.diagnostic(`${what}: dropped by the parent after ${r.sent} bytes: ${r.closedByPeer}`);
    assert.ok(r.closedByPeer, `${what}: the parent closed the rogue connection`);
    if (what === 'oversized frame (header)') assert.ok(r.sent < MiB, `${what}: dropped before the payload was buffered (sent ${r.sent})`);
  }
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 30_000);
  const enclave = (await rig.metrics('enclave')).fwd!;
  const parent = (await rig.metrics('parent')).link!;
  const r = await rig.finish(w.first, w.last);
  report(t, 'legitimate stream during rogue clients', r);
  t.diagnostic(`parent peers_dropped ${parent.peers_dropped}; enclave disconnects ${enclave.disconnects ?? 0}`);
  assertExact(rig, r);
  assert.equal(parent.peers_dropped, cases.length, 'every rogue peer was dropped (counted)');
  assert.equal(enclave.disconnects ?? 0, 0, "the enclave's connection was never disturbed");
  assert.equal(rig.parent.exits.length, 1, 'the parent never restarted');
});

test('11b. idle rogue connections holding partial frames do not lock the enclave out (max_connections 4)', async (t) => {
  // Rogues that connect, send the start of a frame (or one byte) and go silent: without a
  // handshake or heartbeats nothing ever drops them, each holds its partial frame in memory,
  // and once they fill max_connections the enclave, reconnecting after a cut, is refused for
  // good. Expected: such a peer is dropped after a bounded time (here at most connect_timeout,
  // 2 s, plus slack), so the legitimate stream resumes.
  const rig = new Rig(t, { proxy: true, vsock: { max_connections: 4, connect_timeout: '2s' } });
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 4 * RATE });
  await sleep(500);
  const rogues: Socket[] = [];
  const openRogue = async (first: Buffer[]): Promise<void> => {
    const s = createConnection(rig.listenSock);
    s.on('error', () => undefined);
    s.resume();
    await new Promise<void>((r) => s.once('connect', () => r()).once('close', () => r()));
    for (const b of first) s.write(b);
    rogues.push(s);
  };
  t.after(() => {
    for (const s of rogues) s.destroy();
  });
  // Three slots taken (the enclave has the fourth): 4 MiB of a 8 MiB bin each, then silence.
  for (let i = 0; i < 3; i++) await openRogue([Buffer.from([0x93, 0xa3, 0x61, 0x70, 0x70, 0xc6, 0x00, 0x80, 0x00, 0x00]), Buffer.alloc(4 * 1024 * 1024, 0x41)]);
  await sleep(300);
  // The link breaks; a rogue retrying every 20 ms takes the freed slot before the enclave redials.
  rig.proxy!.cut();
  for (let i = 0; i < 100; i++) {
    await openRogue([Buffer.from([0x93])]);
    await sleep(20);
    if (!rogues.at(-1)!.destroyed && !rogues.at(-1)!.readableEnded) break;
  }
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 15_000);
  const open = rogues.filter((s) => !s.destroyed && !s.readableEnded).length;
  const tried = rogues.length;
  const r = await rig.finish(w.first, w.last);
  report(t, 'legitimate stream with idle rogues', r);
  t.diagnostic(
    `rogue connections still open at the end: ${open} of ${tried} opened; refusals logged: ${rig.parent.stderr().split('max_connections (4) reached').length - 1}`,
  );
  assertExact(rig, r);
});
