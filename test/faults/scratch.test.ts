import { test } from 'node:test';
import { Rig, sleep } from './lib/rig.js';

test('stall heap probe', async (t) => {
  const rig = new Rig(t, { keep: true, forward: { buffer_limit: '4MiB', max_inflight: '2MiB' } });
  rig.enclave.nodeArgs = ['--trace-gc', '--expose-gc'];
  await rig.start();
  const wp = rig.writer({ rate: 5000, total: 25 * 5000 });
  await sleep(8000);
  console.log('stop at', Date.now());
  rig.parent.signal('SIGSTOP');
  await sleep(12000);
  rig.parent.signal('SIGCONT');
  const w = await wp;
  await rig.waitArrived(w.first, w.last, 60_000);
  await rig.finish(w.first, w.last);
});
