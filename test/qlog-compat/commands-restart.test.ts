// Exactly once across crashes: kill -9 either side while lines flow, restart it, and the parent's
// service.log holds every line written in the enclave, once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitExit } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { layout, readLines, ServiceWriter, startMonitor, startReceiver } from './setup.js';

const T0 = Date.now();
const mark = (what: string) => process.env.QLOG_TEST_TRACE && console.log(`${Date.now() - T0} ms: ${what}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('kill -9 of receive-file, then of monitor, while lines flow: nothing lost, nothing duplicated', async (t) => {
  const dir = tempDir(t);
  const l = layout(dir, { rotateSize: 20000, rotateNum: 50, interval: 60 });
  const w = new ServiceWriter(l.serviceLog);
  let monitor = startMonitor(l, t);
  await monitor.waitForLine(/listening on/, { stream: 'stderr' });
  let receiver = startReceiver(l, t);
  await receiver.waitForLine(/connecting to/, { stream: 'stderr' });

  let writing = true;
  const writer = (async () => {
    while (writing) {
      w.write(25);
      await sleep(10); // the point: a service writing at a steady pace
    }
  })();
  await waitFor(() => readLines(l.parentWs, 'service.log').length > 500, { what: 'lines flowing', timeoutMs: 15_000 });

  mark('flowing');
  receiver.signal('SIGKILL');
  await waitExit(receiver);
  // The service goes on writing while the receiver is down: those lines come after the restart.
  const down = w.written.length;
  await waitFor(() => w.written.length >= down + 500, { what: 'lines written while the receiver is down' });
  receiver = startReceiver(l, t);
  const before = readLines(l.parentWs, 'service.log').length;
  await waitFor(() => readLines(l.parentWs, 'service.log').length > before + 500, { what: 'lines flowing after the receiver restarted', timeoutMs: 15_000 });

  mark('receiver restarted and flowing');
  monitor.signal('SIGKILL');
  await waitExit(monitor);
  const down2 = w.written.length;
  await waitFor(() => w.written.length >= down2 + 500, { what: 'lines written while the monitor is down' });
  monitor = startMonitor(l, t);
  const before2 = readLines(l.parentWs, 'service.log').length;
  await waitFor(() => readLines(l.parentWs, 'service.log').length > before2 + 500, { what: 'lines flowing after the monitor restarted', timeoutMs: 15_000 });

  mark('monitor restarted and flowing');
  writing = false;
  await writer;
  const last = w.written.at(-1)!;
  await waitFor(() => readLines(l.parentWs, 'service.log').at(-1) === last, { what: 'the last line', timeoutMs: 20_000 });
  mark('all arrived');
  const got = readLines(l.parentWs, 'service.log');
  const seen = new Set(got);
  const dupes = got.length - seen.size;
  const missing = w.written.filter((x) => !seen.has(x)).length;
  assert.equal(dupes, 0, `${dupes} duplicated lines`);
  assert.equal(missing, 0, `${missing} lost lines`);
  assert.deepEqual(got, w.written);
  // The enclave side first: it delivers what it holds while the parent is still there to ack.
  monitor.signal('SIGTERM');
  assert.equal((await waitExit(monitor)).code, 0);
  receiver.signal('SIGTERM');
  assert.equal((await waitExit(receiver)).code, 0);
});
