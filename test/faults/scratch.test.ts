import { test } from 'node:test';
import { Rig, sleep } from './lib/rig.js';

test('rss probe', async (t) => {
  const rig = new Rig(t, { keep: true, forward: { buffer_limit: '4MiB', max_inflight: '2MiB' } });
  rig.enclave.nodeArgs = ['--trace-gc'];
  await rig.start();
  console.log('idle', (rig.enclave.rss() / 1048576).toFixed(1));
  const wp = rig.writer({ rate: 5000, total: 30 * 5000 });
  const out = [];
  for (let i = 0; i < 28; i++) { await sleep(1000); out.push((rig.enclave.rss() / 1048576).toFixed(0)); }
  console.log('normal', out.join(' '));
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 60_000);
  await rig.finish(w.first, w.last);
});
