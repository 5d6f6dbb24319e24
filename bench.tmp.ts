import { encodeEntries, encodePackedForward, decodeEvents, unpackFrame, unpackr } from './core/forward/index.js';
const mk = (i: number) => ({ time: 1_700_000_000_000_000_000n + BigInt(i), tag: 'app', body: `line ${i} with some more text of a typical log line`, meta: { path: '/tmp/qe/src.log', src: '65024:2162803:9f32d36a40ea:0', seq: i * 11 } });
const recs = Array.from({ length: 25000 }, (_, i) => mk(i));
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
for (let round = 0; round < 6; round++) {
  let t0 = cpu();
  const e = encodeEntries(recs);
  let t1 = cpu();
  let n = 0; unpackr.unpackMultiple(e, () => { n++; });
  let t2 = cpu();
  const f = encodePackedForward('app', e, { chunk: 'c', size: recs.length });
  const ev = decodeEvents(unpackFrame(f), { maxDecompressed: 1 << 26 });
  let t3 = cpu();
  console.log('cpu ms: encodeEntries', (t1 - t0).toFixed(1), 'unpackMultiple', (t2 - t1).toFixed(1), 'full decode', (t3 - t2).toFixed(1));
}
