/**
 * Fault case 14: vsock-forward spreading two tags over three receivers (`upstream:`, balance
 * round_robin), one receiver frozen and then SIGKILLed mid-stream, not restarted.
 * The chunks it had not acknowledged move to the other nodes with their ids; the union of the
 * receivers' files holds every line of both sources; a line is in two files only when the killed
 * receiver wrote it before dying without its ack getting back (bounded by the moved chunks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/tmp.js';
import { start, stop } from '../link/link.js';
import {
  checkUnion,
  committedLines,
  enclaveConfig,
  forwardCounters,
  LINE_BYTES,
  movedChunks,
  NODES,
  nodeLines,
  resetSources,
  startReceiver,
  unionCount,
  waitAllConnected,
  writeLines,
} from '../link/upstream-rig.js';

const PREFIXES = ['A', 'B'] as const;
const FLUSH_MAX = 4096;

test('14: round_robin over three receivers, one frozen then SIGKILLed mid-stream for good: union exact, duplicates bounded by the moved chunks', async (t) => {
  const N = 40_000;
  const dir = tempDir(t, 'qlog-upstream-');
  resetSources(dir, PREFIXES);
  const nodes = [0, 1, 2].map((i) => startReceiver(t, dir, i));
  const http = await freePort();
  const enclave = start(t, dir, enclaveConfig(dir, PREFIXES, { balance: 'round_robin', flush_max_size: FLUSH_MAX, max_inflight_chunks: 8 }, http));
  await waitAllConnected(enclave);
  let written = 0;
  const write = (upTo: number): void => {
    if (written >= upTo) return;
    for (const p of PREFIXES) writeLines(dir, p, written + 1, upTo);
    written = upTo;
  };
  const sizes = (): number[] => [0, 1, 2].map((i) => nodeLines(dir, i).length);
  // ~2 x 5,000 lines/s until every node has lines (the tags go round the nodes as they drain).
  await waitFor(
    () => {
      write(Math.min(N, written + 150));
      return sizes().every((n) => n >= 2_000);
    },
    { timeoutMs: 60_000, intervalMs: 30, what: () => `every node with 2,000 lines (${sizes().join(' / ')})` },
  );
  // Node 1 is frozen first (SIGSTOP): a tag that lands on it cannot drain, so it holds
  // unacknowledged chunks for certain when it is SIGKILLed (a kill at a random moment often finds
  // its window empty, and then nothing moves).
  const victim = 1;
  nodes[victim]!.signal('SIGSTOP');
  await waitFor(
    async () => {
      write(Math.min(N, written + 150));
      return ((await forwardCounters(http))[`node${victim}_inflight_chunks`] ?? 0) > 0;
    },
    { timeoutMs: 30_000, intervalMs: 30, what: `chunks in flight on the frozen node ${victim}` },
  );
  nodes[victim]!.signal('SIGKILL');
  await nodes[victim]!.exited;
  const atKill = nodeLines(dir, victim).length;
  assert.ok(written < N, `killed mid-stream (${written} of ${N} lines written)`);
  await waitFor(
    () => {
      write(Math.min(N, written + 150));
      return written >= N && PREFIXES.every((p) => unionCount(dir, p) >= N);
    },
    { timeoutMs: 90_000, intervalMs: 30, what: () => `${N} lines of each source in the union (${PREFIXES.map((p) => unionCount(dir, p)).join(' / ')})` },
  );
  await new Promise((r) => setTimeout(r, 300)); // nothing more (a duplicate) may arrive before the stop
  const alive = nodes.filter((_, i) => i !== victim);
  await stop(enclave, ...alive);
  for (const a of [enclave, ...alive]) assert.equal((await a.exited).code, 0, 'a clean stop');

  const moved = movedChunks(enclave);
  const perChunk = FLUSH_MAX / LINE_BYTES;
  let duplicated = 0;
  for (const p of PREFIXES) {
    const r = checkUnion(dir, p, N);
    t.diagnostic(`${p}: per node ${r.counts.join(' / ')}, lost ${r.lost}, duplicated ${r.duplicated}`);
    assert.equal(r.lost, 0, `${p}: nothing lost`);
    const victimLines = new Set(nodeLines(dir, victim, p).map((l) => Number(l.slice(1, 10))));
    for (const k of r.duplicatedLines) assert.ok(victimLines.has(k), `${p}: duplicate ${k} is a line the killed node wrote`);
    duplicated += r.duplicated;
    assert.equal(committedLines(dir)[p], N, `${p}: every line acknowledged and committed at the end`);
  }
  t.diagnostic(`killed node ${victim} (${atKill} lines), moved chunks ${moved}, duplicated ${duplicated} (<= ${moved} x ${perChunk})`);
  assert.equal(nodeLines(dir, victim).length, atKill, 'the killed node stayed down');
  assert.ok(moved >= 1, `the killed node's unacknowledged chunks moved (${moved})`);
  assert.ok(duplicated <= moved * perChunk, `duplicated ${duplicated} <= ${moved} moved chunks x ${perChunk} lines`);
  assert.equal(NODES, 3);
});
