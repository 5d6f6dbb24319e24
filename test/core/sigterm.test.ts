// SIGTERM/SIGINT: stop the inputs, drain the outputs, exit 0 with everything emitted printed; a
// second signal exits at once; an output that cannot drain is abandoned after service.grace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, waitExit } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { fixture } from '../helpers/plugins.js';

test('SIGTERM drains: exit 0, every emitted record printed once, in order', async (t) => {
  const dir = tempDir(t);
  writeConfig(
    dir,
    'drain.yaml',
    `
service:
  grace: 5s
pipeline:
  inputs:
    - name: dummy
      dummy: 'line \${seq}'
      rate: 20000
  outputs:
    - name: stdout
`,
  );
  const agent = startCli(['run', 'drain.yaml'], { owner: t, cwd: dir });
  await agent.waitForLine(/^line 2000$/);
  agent.signal('SIGTERM');
  assert.deepEqual(await waitExit(agent), { code: 0, signal: null });
  const n = agent.stdout.length;
  assert.ok(n >= 2000);
  assert.deepEqual(
    agent.stdout,
    Array.from({ length: n }, (_, i) => `line ${i + 1}`),
    'lines 1..n, none lost, none repeated',
  );
  const logs = agent.logs();
  const stopped = logs.find((l) => l.msg === 'stopped');
  assert.ok(stopped, 'logs "stopped"');
  assert.equal(stopped.lost, 0);
  assert.ok(logs.some((l) => l.msg === 'SIGTERM received'));
});

test('SIGINT drains the same way', async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, 'int.yaml', `pipeline:\n  inputs: [{ name: dummy, dummy: 'x \${seq}', rate: 1000 }]\n  outputs: [{ name: stdout }]\n`);
  const agent = startCli(['-c', 'int.yaml'], { owner: t, cwd: dir });
  await agent.waitForLine(/^x 3$/);
  agent.signal('SIGINT');
  assert.deepEqual(await waitExit(agent), { code: 0, signal: null });
  assert.deepEqual(
    agent.stdout,
    Array.from({ length: agent.stdout.length }, (_, i) => `x ${i + 1}`),
  );
});

/** An agent whose only output never finishes a flush, with a long grace period. */
async function stuckAgent(t: { after(fn: () => void): void }, grace: string) {
  const dir = tempDir(t);
  writeConfig(
    dir,
    'stuck.yaml',
    `
service:
  grace: ${grace}
  plugins: [${JSON.stringify(fixture('hang-output'))}]
pipeline:
  inputs: [{ name: dummy, rate: 100 }]
  outputs: [{ name: hang }]
`,
  );
  const agent = startCli(['run', 'stuck.yaml'], { owner: t, cwd: dir });
  await agent.waitForLine(/^hang: flush$/, { stream: 'stderr' });
  return agent;
}

for (const second of ['SIGTERM', 'SIGINT'] as const) {
  test(`a second signal (SIGTERM then ${second}) exits at once while draining`, async (t) => {
    const agent = await stuckAgent(t, '60s');
    agent.signal('SIGTERM');
    await agent.waitForLine((l) => l.includes('"stopping: draining outputs'), { stream: 'stderr' });
    const sent = Date.now();
    agent.signal(second);
    const exit = await waitExit(agent, 5000);
    assert.ok(Date.now() - sent < 3000, 'exits well before the 60 s grace period');
    assert.deepEqual(exit, { code: 1, signal: null });
    assert.ok(agent.logs().some((l) => l.msg === `second ${second}: exiting at once`));
  });
}

test('an output that cannot drain is given up after service.grace; exit 0', async (t) => {
  const agent = await stuckAgent(t, '300ms');
  const sent = Date.now();
  agent.signal('SIGTERM');
  assert.deepEqual(await waitExit(agent, 10_000), { code: 0, signal: null });
  assert.ok(Date.now() - sent < 5000, `exited ${Date.now() - sent} ms after SIGTERM`);
  const warn = agent.logs().find((l) => l.level === 40 && l.plugin === 'hang.0');
  assert.ok(warn, 'warns about the output that was not drained');
  assert.match(String(warn.msg), /^hang\.0: not drained within the grace period; \d+ queued records were not delivered/);
});

test('a SIGTERM while the agent is still starting waits for the start, then drains and exits 0', async (t) => {
  const dir = tempDir(t);
  writeConfig(
    dir,
    'slow.yaml',
    `
service:
  plugins: [${JSON.stringify(fixture('slow-setup-input'))}]
pipeline:
  inputs: [{ name: slow_setup, ms: 700 }]
  outputs: [{ name: stdout }]
`,
  );
  const agent = startCli(['run', 'slow.yaml'], { owner: t, cwd: dir });
  await agent.waitForLine(/^slow_setup: setup$/, { stream: 'stderr' });
  agent.signal('SIGTERM');
  assert.deepEqual(await waitExit(agent), { code: 0, signal: null });
  assert.deepEqual(agent.stdout, ['slow 1'], 'the record emitted at start was delivered');
  const msgs = agent.logs().map((l) => l.msg);
  assert.ok(
    msgs.indexOf('SIGTERM received') > msgs.findIndex((m) => String(m).startsWith('qlog ') && String(m).includes(' started with ')),
    'handled after the start',
  );
  assert.ok(msgs.includes('stopped'));
});
