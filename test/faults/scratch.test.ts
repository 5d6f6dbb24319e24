import { test } from 'node:test';
import { Rig, sleep } from './lib/rig.js';

test('copytruncate while the tail is held back', async (t) => {
  const rig = new Rig(t, { keep: true, forward: { buffer_limit: '256KiB', max_inflight: '256KiB' } });
  await rig.start();
  const wp = rig.writer({ rate: 5000, total: 30000, mode: 'copytruncate', every: 200, keep: 50 });
  await sleep(1500);
  rig.parent.signal('SIGSTOP');
  await sleep(2000);
  rig.parent.signal('SIGCONT');
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 15_000);
  const r = await rig.finish(w.first, w.last);
  console.log(rig.describe(r));
});
