// With a log file, warnings also reach stderr when stderr is a terminal (issue 12: receive-file that
// could not reach the enclave said nothing on the terminal; its warnings went only to client.log).
// The terminal is a real pty from script(1) (util-linux).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const CONFIG = `port: 9000
workspace: ./ws
client_logfile: client.log
monitor_items:
  - name: service
    monitor_type: file
    monitor_path: ./service.log
    outputfile: service.log
`;
/** client.log's text, '' until the agent's log writer has created it (after the terminal line). */
function clientLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'ws', 'client.log'), 'utf8');
  } catch {
    return '';
  }
}
const WARNING = /qlog: warn: from-enclave: cannot connect to unix:\/\/\S+nobody\.sock: .*; retrying with backoff/;

test('receive-file on a terminal: the first connect failure is on stderr and in the log file', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config_qlog.toml'), CONFIG);
  const cmd = [process.execPath, CLI, 'receive-file', '--transport', `unix://${join(dir, 'nobody.sock')}`, '4', 'config_qlog.toml']
    .map((a) => `'${a}'`)
    .join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.exitCode === null && child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => WARNING.test(out), { what: `the warning on the terminal; got: ${out}`, timeoutMs: 15_000 });
  await waitFor(() => /cannot connect to unix:\/\/\S+nobody\.sock/.test(clientLog(dir)), { what: 'the warning in client.log' });
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
});

test('receive-file without a terminal: stderr stays quiet, the warning goes to the log file only', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config_qlog.toml'), CONFIG);
  const a = startCli(['receive-file', '--transport', `unix://${join(dir, 'nobody.sock')}`, '4', 'config_qlog.toml'], { owner: t, cwd: dir });
  await waitFor(() => /cannot connect to unix:\/\/\S+nobody\.sock/.test(clientLog(dir)), { what: 'the warning in client.log', timeoutMs: 15_000 });
  a.signal('SIGTERM');
  await a.exited;
  assert.doesNotMatch(a.stderr.join('\n'), /warn/);
});
