// A full disk on the parent (a 1 MiB tmpfs as its workspace): lines wait in the pipeline (the
// enclave keeps them), the error is logged once with what to do, and once space is freed every
// line arrives exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitExit } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { layout, readLines, ServiceWriter, startMonitor, startReceiver } from './setup.js';

function mount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('ENOSPC on the parent workspace loses nothing once space is freed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qlog-enospc-'));
  const l = layout(dir, { rotateSize: 10_000_000, interval: 60 });
  const mounted = mount(l.parentWs);
  t.after(() => {
    if (mounted) {
      try {
        execFileSync('umount', [l.parentWs], { stdio: 'ignore' });
      } catch {
        execFileSync('umount', ['-l', l.parentWs], { stdio: 'ignore' });
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  if (!mounted) return t.skip('cannot mount a tmpfs (needs root, e.g. in CI containers with CAP_SYS_ADMIN): ENOSPC end-to-end test skipped');

  const w = new ServiceWriter(l.serviceLog);
  const monitor = startMonitor(l, t);
  await monitor.waitForLine(/listening on/, { stream: 'stderr' });
  const receiver = startReceiver(l, t);
  await receiver.waitForLine(/connecting to/, { stream: 'stderr' });
  w.write(10);
  await waitFor(() => readLines(l.parentWs, 'service.log').length === 10, { what: 'first lines', timeoutMs: 15_000 });
  // Fill the disk, leaving a few KB (the state and the agent's own log share it).
  const filler = join(l.parentWs, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(1024 * 1024));
  } catch {
    /* ENOSPC: filled as far as it goes */
  }
  for (let i = 0; i < 20; i++) {
    w.write(100, 50);
    await new Promise((r) => setTimeout(r, 50)); // the point: the service keeps writing into the full disk over time
  }
  await waitFor(() => readFileSync(join(l.parentWs, 'client.log'), 'utf8').includes('The disk is full'), {
    what: 'the disk-full error in client.log',
    timeoutMs: 15_000,
  }).catch(() => undefined);
  const whileFull = readLines(l.parentWs, 'service.log');
  assert.ok(whileFull.length < w.written.length, 'the disk never filled up');
  assert.deepEqual(whileFull, w.written.slice(0, whileFull.length), 'only whole lines, in order, while full');
  rmSync(filler);
  const last = w.written.at(-1)!;
  await waitFor(() => readLines(l.parentWs, 'service.log').at(-1) === last, { what: 'every line after space was freed', timeoutMs: 40_000 });
  assert.deepEqual(readLines(l.parentWs, 'service.log'), w.written);
  const log = readFileSync(join(l.parentWs, 'client.log'), 'utf8');
  assert.equal(log.split('The disk is full').length - 1, 1, 'the disk-full error is logged once');
  assert.match(log, /writing resumed/);
  monitor.signal('SIGTERM');
  assert.equal((await waitExit(monitor)).code, 0);
  receiver.signal('SIGTERM');
  assert.equal((await waitExit(receiver)).code, 0);
});
