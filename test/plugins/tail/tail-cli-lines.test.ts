// What the records hold, on the real agent: long lines, CRLF, invalid UTF-8, a 1,000,000-line
// file byte for byte, and option validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, runCli } from '../../helpers/cli.js';
import { writeConfig } from '../../helpers/tmp.js';
import { lines, settle, started, startAgent, stop, tailConfig, tempDir } from './cli.js';

test('CLI: long line split with meta.truncated, CRLF stripped, invalid UTF-8 flagged; neighbours intact', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const path = join(dir, 'app.log');
  const long = 'x'.repeat(2500);
  writeFileSync(
    path,
    Buffer.concat([Buffer.from(`before\r\n${long}\nmiddle\r\n`), Buffer.from([0x62, 0x61, 0x64, 0xff, 0xc3, 0x0a]), Buffer.from('after é\n')]),
  );
  const a = startAgent(t, dir, tailConfig(dir, { path, read_from_head: true, buffer_max_size: 1000, path_key: 'file' }, { format: 'json' }));
  await started(a);
  await lines(a, 7);
  await settle(200);
  await stop(a);
  const recs = a.stdout.map((l) => JSON.parse(l) as { tag: string; log: string; meta: Record<string, unknown> });
  assert.deepEqual(
    recs.map((r) => [r.log.length > 20 ? `${r.log[0]}*${r.log.length}` : r.log, r.meta.truncated ?? false, r.meta.invalid_utf8 ?? false]),
    [
      ['before', false, false],
      ['x*1000', true, false],
      ['x*1000', true, false],
      ['x*500', true, false],
      ['middle', false, false],
      ['bad\ufffd\ufffd', false, true],
      ['after é', false, false],
    ],
  );
  assert.equal(recs[0]!.tag, `app.${path.slice(1).replaceAll('/', '.')}`);
  assert.equal(recs[0]!.meta.path, path);
  assert.equal(recs[0]!.meta.file, path);
  assert.deepEqual(
    recs.map((r) => r.meta.seq),
    [8, 1008, 2008, 2509, 2517, 2523, 2532],
  );
  assert.equal(new Set(recs.map((r) => r.meta.src)).size, 1);
});

test('CLI: a 1,000,000-line file comes out byte for byte', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const path = join(dir, 'big.log');
  const fileHash = createHash('sha256');
  const out = createWriteStream(path);
  let chunk = '';
  for (let i = 0; i < 1_000_000; i++) {
    chunk += i % 97 === 0 ? `${i} héllo wörld ✓ 日本語 line\n` : `${i} the quick brown fox jumps over the lazy dog\n`;
    if (chunk.length > 1 << 20) {
      fileHash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  fileHash.update(chunk);
  out.end(chunk);
  await once(out, 'finish');
  const want = fileHash.digest('hex');
  const cfg = writeConfig(
    dir,
    'cfg.yaml',
    `
service:
  log_level: warn
  state_dir: ${dir}/state
pipeline:
  inputs:
    - name: tail
      path: ${path}
      read_from_head: true
  outputs:
    - name: stdout
      format: line
`,
  );
  const child = spawn(process.execPath, [CLI, 'run', cfg], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  });
  const h = createHash('sha256');
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${n} lines`)), 45_000);
    child.stdout.on('data', (d: Buffer) => {
      h.update(d);
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) n++;
      if (n >= 1_000_000) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`agent exited (${code}) after ${n} lines`)));
  });
  child.removeAllListeners('exit');
  await settle(200);
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 0);
  assert.equal(n, 1_000_000);
  assert.equal(h.digest('hex'), want);
});

test('CLI: tail rejects an unknown option (validate exits 2)', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  const cfg = writeConfig(
    dir,
    'cfg.yaml',
    `
pipeline:
  inputs:
    - name: tail
      path: /var/log/x.log
      rotate_wiat: 5s
  outputs:
    - name: stdout
`,
  );
  const r = await runCli(['validate', cfg], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /rotate_wiat/);
  assert.match(r.stderr, /did you mean "rotate_wait"/);
});

test('CLI: tail requires path and checks its sizes', async (t) => {
  const dir = tempDir(t, 'qlog-tail-cli-');
  let cfg = writeConfig(dir, 'a.yaml', 'pipeline:\n  inputs:\n    - name: tail\n  outputs:\n    - name: stdout\n');
  let r = await runCli(['validate', cfg], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /path/);
  cfg = writeConfig(dir, 'b.yaml', 'pipeline:\n  inputs:\n    - name: tail\n      path: x.log\n      buffer_max_size: 10\n  outputs:\n    - name: stdout\n');
  r = await runCli(['validate', cfg], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /buffer_max_size/);
});
