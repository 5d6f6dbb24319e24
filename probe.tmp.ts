import { TestReceiver } from './test/plugins/vsock-forward/receiver.js';
import { spawn } from 'node:child_process';
const child = spawn(process.execPath, ['dist/core/cli/main.js', 'run', '/tmp/qe/enclave-tail.yaml'], { stdio: ['ignore', 'ignore', 'inherit'] });
const r = new TestReceiver({ autoAck: true });
const t0 = performance.now();
let s;
for (;;) { try { s = await r.connect('unix:///tmp/qe/link.sock'); break; } catch { await new Promise(res => setTimeout(res, 20)); } }
console.log('connected at', (performance.now() - t0).toFixed(0));
let n = 0, last = 0;
const timer = setInterval(() => {
  const f = r.frames; // autoAck doesn't splice
  let recs = 0; for (const x of f) recs += x.ev.records.length;
  if (f.length !== last) console.log((performance.now() - t0).toFixed(0), 'frames', f.length, 'records', recs);
  last = f.length;
  if (recs >= 100000) { clearInterval(timer); child.kill(); process.exit(0); }
}, 50);
