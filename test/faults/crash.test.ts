/**
 * Fault cases 5-6: either agent SIGKILLed mid-stream and restarted. The enclave resumes at its
 * committed tail offset (re-reading what was not acknowledged); the parent cuts what it wrote
 * but never recorded, and its per-source high-water marks drop what it had already written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig, sleep } from './lib/rig.js';
import { assertExact, report } from './lib/assert.js';

const RATE = 5000;

test('5. SIGKILL of the enclave agent mid-stream (3 times), restart: 0 lost, 0 duplicated', async (t) => {
  const rig = new Rig(t);
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 8 * RATE });
  for (const at of [1200, 1700, 1300]) {
    await sleep(at);
    await rig.enclave.kill9();
    await sleep(300);
    await rig.startEnclave();
  }
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 30_000);
  const r = await rig.finish(w.first, w.last);
  report(t, 'enclave SIGKILLed 3 times', r);
  assertExact(rig, r);
  const m = /"duplicates_skipped":(\d+)/.exec(rig.parent.stderr());
  t.diagnostic(`parent skipped re-sent lines: ${m?.[1] ?? 'n/a'}`);
});

test('5b. SIGKILL of the enclave agent during rename rotations, restart: 0 lost, 0 duplicated', async (t) => {
  // Files rotated away while the agent is down are found again by inode and read to their end.
  const rig = new Rig(t);
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 6 * RATE, mode: 'rename', every: 300, keep: 20 });
  for (const at of [1100, 1500]) {
    await sleep(at);
    await rig.enclave.kill9();
    await sleep(700); // two rotations happen while it is down
    await rig.startEnclave();
  }
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 30_000);
  const r = await rig.finish(w.first, w.last);
  report(t, 'enclave SIGKILLed during rotations', r);
  assertExact(rig, r);
  assert.match(rig.enclave.stderr(), /finishing a file rotated while stopped/);
});

test('6. SIGKILL of the parent agent mid-stream (3 times), restart: 0 lost, 0 duplicated', async (t) => {
  // Small output files: kills also land around rotations of the parent's files.
  const rig = new Rig(t, { file: { rotate_size: '200KB' } });
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 8 * RATE });
  for (const at of [1200, 1700, 1300]) {
    await sleep(at);
    await rig.parent.kill9();
    await sleep(300);
    await rig.startParent();
  }
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 30_000);
  const r = await rig.finish(w.first, w.last);
  report(t, 'parent SIGKILLed 3 times', r);
  assertExact(rig, r);
});

test('6b. SIGKILL of the parent agent with gzip-compressed rotation: 0 lost, 0 duplicated', async (t) => {
  const rig = new Rig(t, { file: { rotate_size: '100KB', compress: true } });
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 6 * RATE });
  for (const at of [1100, 1300, 900]) {
    await sleep(at);
    await rig.parent.kill9();
    await sleep(200);
    await rig.startParent();
  }
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 30_000);
  const r = await rig.finish(w.first, w.last);
  report(t, 'parent SIGKILLed, gzip rotation', r);
  assertExact(rig, r);
});
