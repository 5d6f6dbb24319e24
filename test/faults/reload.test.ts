/**
 * Fault case 10: SIGHUP with a changed config. The parent gets an extra output, then the
 * enclave gets one too, while lines stream: nothing is lost or duplicated in the parent's file
 * across either reload, and each new output receives every line written after its reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Rig, sleep } from './lib/rig.js';
import { waitFor } from '../helpers/wait.js';
import { assertExact, report } from './lib/assert.js';
import { checkLines } from '../helpers/checker.js';

const RATE = 5000;

async function reload(rig: Rig, which: 'parent' | 'enclave'): Promise<number> {
  const a = rig[which];
  const before = a.stderr().length;
  a.signal('SIGHUP');
  await waitFor(() => /reload complete|reload rejected|reload failed/.test(a.stderr().slice(before)), {
    timeoutMs: 20_000,
    intervalMs: 20,
    what: () => `the ${which} to log the end of its reload:\n${a.stderr().slice(before, before + 3000)}`,
  });
  const log = a.stderr().slice(before);
  assert.ok(log.includes('reload complete'), `${which} reloaded:\n${log.slice(0, 3000)}`);
  // Every line after this one was written after the reload completed.
  return Math.floor(statSync(rig.log).size / 100);
}

test('10. SIGHUP with an extra output (parent, then enclave): nothing lost across the reloads, the new outputs get the lines after them', async (t) => {
  const rig = new Rig(t);
  await rig.start();
  const wp = rig.writer({ rate: RATE, total: 8 * RATE });
  await sleep(1500);

  rig.configure({
    parentOutputs: [{ name: 'rotated-file', alias: 'extra', match: '*', workspace: rig.ws, file: 'extra.log', rotate_size: '1MB', rotate_num: 1000 }],
  });
  const afterParent = await reload(rig, 'parent');
  await sleep(1500);

  const ews = join(rig.dir, 'ews');
  const enclaveCfg = rig
    .enclaveConfig()
    .replace(
      '"outputs": [',
      `"outputs": [\n      { "name": "rotated-file", "alias": "copy", "match": "*", "workspace": ${JSON.stringify(ews)}, "file": "copy.log", "rotate_size": "1MB", "rotate_num": 1000 },`,
    );
  assert.notEqual(enclaveCfg, rig.enclaveConfig());
  rig.enclave.rewrite(enclaveCfg);
  const afterEnclave = await reload(rig, 'enclave');

  const w = await wp;
  await rig.waitArrived(w.first, w.last, 30_000);
  await rig.waitArrived(afterParent + 1, w.last, 10_000, 'extra.log');
  await rig.waitArrived(afterEnclave + 1, w.last, 10_000, 'copy.log', ews);
  const r = await rig.finish(w.first, w.last);
  report(t, 'out.log across both reloads', r);
  assertExact(rig, r);

  const extra = checkLines(rig.lines('extra.log'), 'L', afterParent + 1, w.last);
  report(t, `parent's new output, lines after its reload (> ${afterParent})`, extra);
  assertExact(rig, extra, "the parent's new output");
  const copy = checkLines(rig.lines('copy.log', ews), 'L', afterEnclave + 1, w.last);
  report(t, `enclave's new output, lines after its reload (> ${afterEnclave})`, copy);
  assertExact(rig, copy, "the enclave's new output");
});
