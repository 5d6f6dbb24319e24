// A rogue sender on the link cannot make the parent write outside its workspace, whatever the tag
// or the metadata it claims (end to end: qlog run <parent config>, Forward messages on a socket).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pack, Unpackr } from 'msgpackr';
import { startCli, waitExit } from '../../helpers/cli.js';
import { tempDir, writeConfig } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

test('tags with ../ and metadata paths never write outside the workspace', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'p.sock');
  const config = writeConfig(
    dir,
    'parent.yaml',
    `
service:
  state_dir: ${dir}/state
pipeline:
  inputs:
    - name: vsock
      listen: unix://${sock}
  outputs:
    - name: rotated-file
      workspace: ${dir}/ws
      file: '\${path:-flat}/\${tag}.log'
`,
  );
  const agent = startCli(['run', config], { cwd: dir, owner: t });
  // The socket file appears at bind(), a moment before listen(): wait for the agent to say it
  // started (its inputs listen by then), not for the file.
  await agent.waitForLine(/started with/, { stream: 'stderr', timeoutMs: 15_000 });
  const s = connect(sock);
  const acks: string[] = [];
  const unpackr = new Unpackr({ useRecords: false });
  s.on('data', (d: Buffer) => {
    for (const m of unpackr.unpackMultiple(d) as { ack?: string }[]) if (m.ack) acks.push(m.ack);
  });
  await new Promise((r) => s.once('connect', r));
  const now = Math.floor(Date.now() / 1000);
  const send = (tag: string, log: string, meta: Record<string, unknown>, chunk: string) => s.write(pack([tag, now, { log, _qlog: meta }, { chunk }]));
  send('../../evil', 'evil tag', {}, 'c1');
  send('/etc/passwd', 'absolute tag', {}, 'c2');
  send('ok', 'escaping path', { path: '../../../../outside' }, 'c3');
  send('ok', 'absolute path', { path: '/abs/dir' }, 'c4');
  send('ok', 'fine', {}, 'c5');
  await waitFor(() => acks.length === 5, { what: '5 acks', timeoutMs: 10_000 });
  s.end();

  assert.deepEqual(
    readdirSync(dir).filter((f) => !['p.sock', 'parent.yaml', 'state', 'ws', '.qlog-state'].includes(f)),
    [],
  );
  assert.ok(!readdirSync(dir).includes('outside') && !readdirSync(join(dir, '..')).includes('outside'));
  const files = (readdirSync(join(dir, 'ws'), { recursive: true }) as string[]).filter((f) => f.endsWith('.log')).sort();
  for (const f of files) assert.ok(!f.includes('..') && !f.startsWith('/'), f);
  assert.equal(readFileSync(join(dir, 'ws', 'flat', 'ok.log'), 'utf8'), 'fine\n');
  const all = files.map((f) => readFileSync(join(dir, 'ws', f), 'utf8')).join('');
  assert.ok(!all.includes('escaping path'), 'the record whose path escapes is refused');
  assert.ok(!all.includes('absolute path'), 'a rendered absolute name is refused');
  assert.ok(all.includes('evil tag') && all.includes('absolute tag'), `rewritten tags are written inside the workspace: ${files.join(', ')}`);
  agent.signal('SIGTERM');
  assert.equal((await waitExit(agent)).code, 0);
});
