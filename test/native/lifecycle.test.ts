// Handle lifetime: an idle socket does not keep the process alive, unref() lets it exit,
// an unreachable socket is closed by GC, a worker with active polls terminates cleanly,
// and an exception thrown from a handler reaches 'uncaughtException' like any other.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { addonSkipReason } from './helpers.js';

const skip = addonSkipReason();
const modUrl = new URL('../../core/transport/vsock-native.ts', import.meta.url).href;

const dir = mkdtempSync(join(tmpdir(), 'qlog-native-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(code: string, args: string[] = [], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...args, '--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('unref() lets the process exit while sockets and a server wait for I/O', { skip }, () => {
  const r = run(
    `
    const m = await import(${JSON.stringify(modUrl)});
    const [a, b] = m.unixSocketPair();
    a.resume(); a.unref();           // polling for reads, but unref'd
    b.unref();
    const s = new m.VsockServer(); s.unref();
    await s.listenUnixPath(process.env.QLOG_TEST_DIR + '/unref.sock');
    console.log('ready');
  `,
    [],
    { QLOG_TEST_DIR: dir },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /ready/);
});

test('GC closes the fd of a socket nobody references', { skip }, () => {
  const r = run(
    `
    import('node:fs').then(async ({ readdirSync }) => {
      const m = await import(${JSON.stringify(modUrl)});
      const count = () => readdirSync('/proc/self/fd').length;
      const before = count();
      for (let i = 0; i < 50; i++) m.unixSocketPair(); // dropped without destroy, never polled
      const leaked = count() - before;
      // GC runs finalizers asynchronously: collect and poll, for up to 200 ms.
      for (let i = 0; i < 10 && count() > before; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      console.log(JSON.stringify({ leaked, after: count() - before }));
    });
  `,
    ['--expose-gc'],
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim());
  assert.equal(out.leaked, 100);
  assert.equal(out.after, 0);
});

test('terminating a worker with active polls does not crash', { skip }, () => {
  const r = run(`
    import { Worker } from 'node:worker_threads';
    const w = new Worker(\`
      const { parentPort } = await import('node:worker_threads');
      const { tsImport } = await import('tsx/esm/api');
      const m = await tsImport(${JSON.stringify(modUrl)}, ${JSON.stringify(import.meta.url)});
      const [a, b] = m.unixSocketPair();
      a.resume();                                   // readable poll active
      while (b.write(Buffer.alloc(65536)));         // writable poll active
      const [c, d] = m.unixSocketPair();            // and a busy echo: callbacks in flight
      d.pipe(d);
      c.resume();
      const pump = () => { while (c.write(Buffer.alloc(65536))); };
      c.on('drain', pump);
      pump();
      await new Promise((r) => c.once('data', r));  // the echo is running: callbacks in flight
      parentPort.postMessage('polling');
    \`, { eval: true });
    w.on('message', async () => { await w.terminate(); console.log('terminated'); });
    w.on('error', (e) => { console.error(e); process.exit(3); });
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /terminated/);
});

test('an exception in a data handler reaches uncaughtException', { skip }, () => {
  const r = run(`
    const m = await import(${JSON.stringify(modUrl)});
    process.on('uncaughtException', (e) => { console.log('caught ' + e.message); process.exit(0); });
    const [a, b] = m.unixSocketPair();
    b.on('data', () => { throw new Error('handler bug'); });
    setTimeout(() => a.write('x'), 10); // delivered from the poll callback, not from _read
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /caught handler bug/);
});
