/**
 * Fault case 9: the parent's workspace fills up (a 2 MiB tmpfs, mounted as root). While it is
 * full nothing is acknowledged that is not in the parent's files (the enclave's committed tail
 * offset never runs ahead of what the parent wrote), no line is torn, and once there is room
 * again (remounted at 64 MiB) everything arrives, once. Skipped when tmpfs cannot be mounted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rig } from './lib/rig.js';
import { waitFor } from '../helpers/wait.js';
import { assertExact, report } from './lib/assert.js';
import { checkLines } from '../helpers/checker.js';

const RATE = 5000;
const LINE = 100;

function tryMount(dir: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return ((e as { stderr?: Buffer }).stderr?.toString() || (e as Error).message).trim();
  }
}

test('9. the parent workspace fills up (2 MiB tmpfs): nothing acked unwritten, no torn line, everything arrives after space is freed', async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'qlog-faults-ws-'));
  const ws = join(mnt, 'ws');
  mkdirSync(ws);
  const why = tryMount(ws);
  if (why !== undefined) {
    rmSync(mnt, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs at ${ws} (needs root and mount permission): ${why}`);
    return;
  }
  // Lazy unmount: safe even if an agent still has a file open there when this runs.
  t.after(() => {
    try {
      execFileSync('umount', ['-l', ws], { stdio: 'pipe' });
    } catch {
      /* already unmounted */
    }
    rmSync(mnt, { recursive: true, force: true });
  });
  const rig = new Rig(t, { workspace: ws });
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 8 * RATE });

  // Until well after the disk is full: the committed offset never covers a line that is not there.
  let checks = 0;
  let maxCommitted = 0;
  let fullSince = 0;
  const invariant = (): void => {
    const committed = Math.max(0, ...rig.committedOffsets().map((e) => e.offset));
    // State first, files second: a line committed before we read the files must be in them.
    const upTo = Math.floor(committed / LINE);
    if (upTo === 0) return;
    const r = checkLines(rig.lines(), 'L', 1, upTo);
    checks++;
    maxCommitted = Math.max(maxCommitted, upTo);
    assert.equal(r.lost, 0, `the enclave committed up to line ${upTo} but lines ${r.lostRanges} are not in the parent's files\n${rig.describe(r)}`);
    assert.equal(r.altered, 0, `torn lines in the parent's files while full: ${JSON.stringify(r.alteredLines)}`);
  };
  await waitFor(
    async () => {
      invariant();
      const m = (await rig.metrics('parent')).file;
      if ((m?.write_errors ?? 0) > 0 && !fullSince) fullSince = Date.now();
      return fullSince > 0 && Date.now() - fullSince > 4000;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: () => `the workspace to fill up (write errors seen) for 4 s\n${rig.problems('parent')}` },
  );
  invariant();
  const stuck = rig.committedOffsets()[0]?.offset ?? 0;
  assert.match(rig.parent.stderr(), /The disk is full/, 'the parent logged the full disk with what to do');

  execFileSync('mount', ['-o', 'remount,size=64m', ws]);
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 60_000);
  const pm = (await rig.metrics('parent')).file!;
  const r = await rig.finish(w.first, w.last);
  report(t, 'workspace full, then freed', r);
  t.diagnostic(
    `${checks} checks of the enclave's committed offset against the parent's files (up to line ${maxCommitted}); while full the committed offset stayed at ${stuck} bytes; parent write_errors ${pm.write_errors}, torn_bytes_cut ${pm.torn_bytes_cut ?? 0}`,
  );
  assertExact(rig, r);
  assert.match(rig.parent.stderr(), /writing resumed/, 'the parent logged that writing resumed');
});
