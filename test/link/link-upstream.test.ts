// vsock-forward with three receivers (`upstream:`, balance failover), real agents: the first
// receiver is SIGKILLed mid-stream and restarted. Every line is in the union of the receivers'
// files; the only lines in two files are those of the chunks the killed receiver had written and
// not yet acknowledged (moved to the next node with the same ids), and the enclave's tail offset
// never passes a line that no receiver has written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/tmp.js';
import { start, stop } from './link.js';
import {
  checkUnion,
  committedLines,
  contiguousDelivered,
  enclaveConfig,
  LINE_BYTES,
  movedChunks,
  nodeLines,
  resetSources,
  startReceiver,
  unionCount,
  waitAllConnected,
  writeLines,
} from './upstream-rig.js';

const FLUSH_MAX = 4096;
const MAX_INFLIGHT_CHUNKS = 8;

test('failover over three receivers, the first SIGKILLed mid-stream and restarted: union exact, duplicates only from the moved window', async (t) => {
  const N = 60_000;
  const dir = tempDir(t, 'qlog-upstream-');
  resetSources(dir, ['L']);
  const nodes = [0, 1, 2].map((i) => startReceiver(t, dir, i));
  const enclave = start(t, dir, enclaveConfig(dir, ['L'], { flush_max_size: FLUSH_MAX, max_inflight_chunks: MAX_INFLIGHT_CHUNKS }));
  // Nodes come up in any order and the first chunks go to the first node up: start writing once
  // the three are connected, so that failover's first node is node 0.
  await waitAllConnected(enclave);
  let written = 0;
  let offsetChecks = 0;
  const write = (upTo: number): void => {
    if (written >= upTo) return;
    writeLines(dir, 'L', written + 1, upTo);
    written = upTo;
  };
  /** The committed offset, read before the files, never passes a line no receiver has. */
  const checkOffsets = (): void => {
    const committed = committedLines(dir).L ?? 0;
    const delivered = contiguousDelivered(dir, 'L');
    assert.ok(committed <= delivered, `committed ${committed} lines, only 1..${delivered} in the receivers' files`);
    offsetChecks++;
  };
  /** ~5,000 lines/s until `cond` holds. */
  const stream = async (cond: () => boolean, what: string): Promise<void> => {
    await waitFor(
      () => {
        write(Math.min(N, written + 150));
        checkOffsets();
        return cond();
      },
      { timeoutMs: 60_000, intervalMs: 30, what },
    );
  };

  await stream(() => nodeLines(dir, 0).length >= 10_000, '10,000 lines on node 0');
  nodes[0]!.signal('SIGKILL');
  await nodes[0]!.exited;
  const atKill = nodeLines(dir, 0).length;
  await stream(() => nodeLines(dir, 1).length >= 10_000, '10,000 lines on node 1 after the kill');
  nodes[0] = startReceiver(t, dir, 0);
  // Back in list order: once node 1's chunks in flight are acknowledged, node 0 gets the rest.
  await stream(() => nodeLines(dir, 0).length >= atKill + 5_000, 'node 0 back in use after its restart');
  assert.ok(written < N, `the stream was still going when node 0 came back (${written} of ${N})`);
  write(N);
  await waitFor(() => unionCount(dir, 'L') >= N, { timeoutMs: 60_000, intervalMs: 50, what: () => `${N} lines in the union (${unionCount(dir, 'L')})` });
  await new Promise((r) => setTimeout(r, 300)); // nothing more (a duplicate) may arrive before the stop
  await stop(enclave, ...nodes);
  checkOffsets();
  assert.equal(committedLines(dir).L, N, 'every line acknowledged and committed at the end');

  const r = checkUnion(dir, 'L', N);
  const moved = movedChunks(enclave);
  const perChunk = FLUSH_MAX / LINE_BYTES;
  t.diagnostic(
    `per node ${r.counts.join(' / ')}, lost ${r.lost}, duplicated ${r.duplicated}, moved chunks ${moved}, node 0 had ${atKill} at the kill, ${offsetChecks} offset checks`,
  );
  assert.equal(r.lost, 0);
  assert.equal(r.counts[2], 0, 'failover: node 2 never used while node 1 was up');
  assert.equal(r.counts[0]! + r.counts[1]!, N + r.duplicated, 'every line in node 0 or node 1, the duplicates once more');
  // A kill at a random moment may find node 0's window empty (then nothing moves, nothing repeats);
  // fault case 14 freezes its node first so that the move always happens.
  assert.ok(moved <= MAX_INFLIGHT_CHUNKS, `at most the killed node's window moved (${moved})`);
  // A line in two files is one the killed node wrote and had not acknowledged: at its end, in a moved chunk.
  assert.ok(r.duplicated <= moved * perChunk, `duplicated ${r.duplicated} <= ${moved} moved chunks x ${perChunk} lines`);
  for (const k of r.duplicatedLines)
    assert.ok(k > atKill - moved * perChunk && k <= atKill, `duplicate ${k} is among the last lines node 0 wrote before the kill`);
});
