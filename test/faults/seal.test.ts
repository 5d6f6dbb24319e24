/**
 * Fault cases with sealing on (docs/sealing.md): either agent SIGKILLed mid-stream and restarted
 * while the enclave seals. The parent keeps exactly-once on the units' cleartext src/seq; the
 * opener drops the records a restarted enclave re-sealed (re-read from its committed offset) and
 * checks the chains. After opening: 0 lost, 0 duplicated.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { LINE_PREFIX, OUT_FILE, Rig } from './lib/rig.js';
import { assertExact, report } from './lib/assert.js';
import { checkLines, rotatedFilesInOrder } from '../helpers/checker.js';
import { qlogOpen } from '../helpers/sealed.js';

const RATE = 5000;

async function killLoopSealed(t: TestContext, agent: 'enclave' | 'parent'): Promise<void> {
  const rig = new Rig(t, { seal: true, file: { rotate_size: '200KB' } });
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 8 * RATE });
  await rig.killLoop(agent);
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 30_000);
  const r = await rig.finish(w.first, w.last);
  report(t, `sealing on, ${agent} SIGKILLed 3 times`, r);
  assertExact(rig, r);
  const o = rig.opened();
  const kinds = new Map<string, number>();
  for (const p of o.problems) kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
  t.diagnostic(`units ${o.units}; verifier: ${JSON.stringify(Object.fromEntries(kinds))} (resend: records re-sealed after a restart, dropped by the opener)`);
  assert.deepEqual(
    o.problems.filter((p) => p.kind !== 'resend').map((p) => p.message),
    [],
    'no gap, reorder, duplicate or cut chain: only records re-sealed after a restart',
  );
  assert.deepEqual(o.plain, [], 'the parent stored sealed units only');
  // The same with the CLI: qlog open on the parent's files, oldest first.
  const cli = await qlogOpen(rig.sealKey!.identityFile, rotatedFilesInOrder(rig.ws, OUT_FILE));
  const c = checkLines(cli.stdout.split('\n').filter(Boolean), LINE_PREFIX, w.first, w.last);
  report(t, 'qlog open', c);
  assertExact(rig, c, 'qlog open');
  assert.equal(cli.code, 0, cli.stderr.slice(-2000));
}

test('S1. sealing on, SIGKILL of the enclave agent mid-stream (3 times): after opening, 0 lost, 0 duplicated', (t) => killLoopSealed(t, 'enclave'));

test('S2. sealing on, SIGKILL of the parent agent mid-stream (3 times): after opening, 0 lost, 0 duplicated', (t) => killLoopSealed(t, 'parent'));

test('S3. unseal on the parent (a trusted aggregator), SIGKILLed 3 times: 0 lost, 0 duplicated, no unit rejected', async (t) => {
  // The aggregator acks what it delivered: after each restart it joins the enclave's chains
  // mid-session, and the enclave resends what was not acknowledged (dropped by chunk id or the
  // rotated-file marks, as plain records are).
  const rig = new Rig(t, { seal: 'unseal', file: { rotate_size: '200KB' } });
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 8 * RATE });
  await rig.killLoop('parent');
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 30_000);
  const c = (await rig.metrics('parent')).link ?? {};
  const r = await rig.finish(w.first, w.last);
  report(t, 'unseal on the parent, SIGKILLed 3 times', r);
  t.diagnostic(
    `counters of the last run: ${JSON.stringify(Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith('unseal') || k === 'units_opened')))}`,
  );
  assertExact(rig, r);
  assert.ok((c.units_opened ?? 0) > 0, 'units were opened');
  for (const k of ['unseal_auth', 'unseal_signer', 'unseal_duplicate']) assert.equal(c[k] ?? 0, 0, `${k}: ${JSON.stringify(c)}`);
  assert.doesNotMatch(rig.parent.stderr(), /not a sealed unit|authentication failed|unknown signer/);
});
