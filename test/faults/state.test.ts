/**
 * Fault cases 13a-13b: the enclave's tail state against operator mistakes, with the real qlog
 * commands (qlog monitor / qlog receive-file over a unix socket, the guide's config).
 *  13a: one run of qlog monitor with a wrong monitor_path (same workspace, same item name)
 *       between two correct ones: the real file keeps its offset, nothing is sent twice.
 *  13b: the enclave's state directory is lost between two runs: the file is read again from its
 *       head under the same src/seq (derived from the file), and the parent drops what it has.
 * The parent's service.log holds every line written, exactly once, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningCli, waitExit } from '../helpers/cli.js';
import type { HasAfter } from '../helpers/tmp.js';
import { httpGet } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { type Layout, layout, readLines, ServiceWriter, startMonitor, startReceiver } from '../qlog-compat/setup.js';

const stateFile = (l: Layout) => join(l.enclaveWs, '.qlog-state', 'monitor', 'service.offsets.json');

async function monitorRun(l: Layout, t: HasAfter): Promise<RunningCli> {
  const m = startMonitor(l, t);
  await m.waitForLine(/qlog monitor: listening on unix:\/\//, { stream: 'stderr' });
  return m;
}

async function stop(c: RunningCli): Promise<void> {
  c.signal('SIGTERM');
  assert.equal((await waitExit(c)).code, 0);
}

/** The parent's rotated-file counter, from its metrics endpoint (named in its log). */
async function parentCounter(l: Layout, name: string): Promise<number> {
  const log = join(l.parentWs, 'client.log');
  const url = await waitFor(() => existsSync(log) && /metrics on (http:\/\/[^/"]+)\/metrics/.exec(readFileSync(log, 'utf8'))?.[1], {
    what: 'the metrics address in the parent log',
  });
  const list = JSON.parse((await httpGet(`${url}/api/v1/metrics`)).body) as { id: string; counters: Record<string, number> }[];
  return list.find((m) => m.id === 'file.service')?.counters[name] ?? 0;
}

async function arrived(l: Layout, w: ServiceWriter): Promise<void> {
  await waitFor(() => readLines(l.parentWs, 'service.log').length >= w.written.length, {
    what: () => `${w.written.length} lines on the parent (have ${readLines(l.parentWs, 'service.log').length})`,
    timeoutMs: 15_000,
  });
}

/** Compare the parent's file with what was written, read the counter, stop both (the enclave first: it delivers what it holds). */
async function finish(l: Layout, w: ServiceWriter, monitor: RunningCli, receiver: RunningCli, skipped: number): Promise<void> {
  // Anything sent twice would come right behind the last line: give it a moment to show up.
  await new Promise((r) => setTimeout(r, 1000));
  const got = readLines(l.parentWs, 'service.log');
  assert.equal(got.length, w.written.length, `lines on the parent: ${got.length}, written ${w.written.length}`);
  assert.deepEqual(got, w.written);
  assert.equal(await parentCounter(l, 'duplicates_skipped'), skipped, 'duplicates_skipped');
  await stop(monitor);
  await stop(receiver);
}

test('13a. one qlog monitor run with a wrong monitor_path between two right ones: each line exactly once', async (t) => {
  const dir = tempDir(t);
  const l = layout(dir, { interval: 60 });
  const right = readFileSync(l.config, 'utf8');
  const w = new ServiceWriter(l.serviceLog);
  w.write(100);
  let monitor = await monitorRun(l, t);
  const receiver = startReceiver(l, t, ['--http-listen', '127.0.0.1:0']);
  await arrived(l, w);
  await stop(monitor);
  const size100 = statSync(l.serviceLog).size;

  writeFileSync(l.config, right.replace(l.serviceLog, join(dir, 'enclave', 'servce.log'))); // the mistake
  monitor = await monitorRun(l, t);
  await waitFor(() => existsSync(stateFile(l)) && readFileSync(stateFile(l), 'utf8').includes('"lost"'), { what: 'the run to have missed the file' });
  w.write(20); // written while the wrong run is up
  await stop(monitor);
  const kept = Object.values(JSON.parse(readFileSync(stateFile(l), 'utf8')).files) as { offset: number }[];
  assert.equal(kept.length, 1, 'the real file keeps its entry');
  assert.equal(kept[0]!.offset, size100);

  writeFileSync(l.config, right);
  monitor = await monitorRun(l, t);
  w.write(30);
  await arrived(l, w);
  await finish(l, w, monitor, receiver, 0); // nothing was even sent again
});

test('13b. the enclave state directory lost between two runs: the file is read again under the same src, the parent skips it', async (t) => {
  const dir = tempDir(t);
  const l = layout(dir, { interval: 60 });
  const w = new ServiceWriter(l.serviceLog);
  w.write(100);
  let monitor = await monitorRun(l, t);
  const receiver = startReceiver(l, t, ['--http-listen', '127.0.0.1:0']);
  await arrived(l, w);
  await stop(monitor);

  rmSync(join(l.enclaveWs, '.qlog-state'), { recursive: true, force: true }); // the loss
  w.write(20);
  monitor = await monitorRun(l, t);
  await arrived(l, w);
  await finish(l, w, monitor, receiver, 100); // the first 100 came again and were dropped, each once
});
