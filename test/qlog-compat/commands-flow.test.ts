// qlog monitor + qlog receive-file, with the guide's config rewritten to temp paths, over a Unix
// socket (--transport): what an operator sees on the parent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, waitExit } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { GUIDE_CONFIG } from './guide.js';
import { generations, layout, readLines, ServiceWriter, startMonitor, startReceiver } from './setup.js';

test('service lines arrive byte for byte, resource.log gets a line per interval, rotation keeps rotate_num files', async (t) => {
  const dir = tempDir(t);
  const l = layout(dir, { rotateSize: 4096, rotateNum: 3, interval: 1 });
  const w = new ServiceWriter(l.serviceLog);
  w.write(3); // written before the agent starts: read from the head
  const monitor = startMonitor(l, t);
  await monitor.waitForLine(/qlog monitor: listening on unix:\/\//, { stream: 'stderr' });
  const receiver = startReceiver(l, t);
  await receiver.waitForLine(/qlog receive-file: connecting to unix:\/\//, { stream: 'stderr' });
  await waitFor(() => readLines(l.parentWs, 'service.log').length === 3, { what: 'the first 3 lines on the parent', timeoutMs: 15_000 });
  assert.equal(readFileSync(join(l.parentWs, 'service.log'), 'utf8'), readFileSync(l.serviceLog, 'utf8'), 'byte for byte');

  // Enough lines (about 45 bytes each) for 5 rotations at 4096 bytes: the oldest goes (rotate_num 3).
  for (let i = 0; i < 25; i++) {
    w.write(20);
    await new Promise((r) => setTimeout(r, 20)); // the point: the lines come in over time, not at once
  }
  const last = w.written.at(-1)!;
  await waitFor(() => readLines(l.parentWs, 'service.log').at(-1) === last, { what: 'the last line on the parent', timeoutMs: 15_000 });
  const files = generations(l.parentWs, 'service.log');
  assert.deepEqual(files, ['service.log.3', 'service.log.2', 'service.log.1', 'service.log']);
  for (const f of files.slice(0, -1)) {
    const size = statSync(join(l.parentWs, f)).size;
    assert.ok(size >= 4096 && size < 4096 + 100, `${f}: ${size} bytes`);
  }
  // The kept files hold the newest lines, in order, each once.
  const got = readLines(l.parentWs, 'service.log');
  assert.deepEqual(got, w.written.slice(w.written.length - got.length));

  const resource = await waitFor(
    () => {
      const r = readLines(l.parentWs, 'resource.log');
      return r.length >= 2 ? r : undefined;
    },
    { what: '2 resource lines', timeoutMs: 15_000 },
  );
  for (const line of resource) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z cpu=\d+\.\d% mem=\d+\.\d% \(\d+\/\d+ MiB\)/);

  // The agents' own logs go to <workspace>/server.log (enclave) and client.log (parent -w).
  assert.match(readFileSync(join(l.enclaveWs, 'server.log'), 'utf8'), /qlog .* started/);
  assert.match(readFileSync(join(l.parentWs, 'client.log'), 'utf8'), /qlog .* started/);

  // The enclave side first: it delivers what it holds while the parent is still there to ack.
  monitor.signal('SIGTERM');
  assert.equal((await waitExit(monitor)).code, 0);
  receiver.signal('SIGTERM');
  assert.equal((await waitExit(receiver)).code, 0);
});

test("help texts are qlog's; a bad config exits 2 with file:line:column", async (t) => {
  const dir = tempDir(t);
  const [top, mon, rec] = await Promise.all([runCli(['--help']), runCli(['help', 'monitor']), runCli(['receive-file', '--help'])]);
  assert.match(top.stdout, /monitor\s+Monitor resource usage/);
  assert.match(top.stdout, /receive-file\s+Receive data from qlog monitor/);
  assert.ok(mon.stdout.startsWith('Monitor logs and/or resource usage\n\nUsage: qlog monitor [OPTIONS] <CONFIG>\n'));
  assert.ok(mon.stdout.includes('  -c, --cid <CID>  CID to listen on (defaults to VMADDR_CID_ANY) [default: 4294967295]\n'));
  assert.ok(rec.stdout.includes("  <CID>     Enclave VM's CID\n"));
  assert.ok(rec.stdout.includes('  -w, --workspace <WORKSPACE>  Set to workspace if specified, prior to configuration file\n'));

  const bad = join(dir, 'bad.toml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(bad, GUIDE_CONFIG.replace('rotate_num: 10', 'rotate_nun: 10'));
  const r = await runCli(['receive-file', '4', bad], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.toml:9:1: rotate_nun: unknown key "rotate_nun" \(did you mean "rotate_num"\?\)/);
  const u = await runCli(['monitor', '-c', 'x', bad], { cwd: dir });
  assert.equal(u.code, 2);
  assert.match(u.stderr, /invalid value 'x' for '--cid <CID>'/);
  const m = await runCli(['receive-file', bad], { cwd: dir });
  assert.equal(m.code, 2);
  assert.match(m.stderr, /required arguments were not provided: <CONFIG>/);
});
