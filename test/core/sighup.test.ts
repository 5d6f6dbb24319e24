// SIGHUP reloads the config file: a valid new file replaces the pipeline (the old one drains
// first, nothing lost); an invalid one is rejected with file:line:col errors in the log and the
// agent keeps running on the old pipeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, waitExit } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { schema as dummySchema } from '../../plugins/dummy/schema.js';
import { commonProperties } from '../../core/config/common.js';
import { builtinRegistry } from '../../core/builtins.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpGet } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';

const config = (text: string) => `
service:
  grace: 3s
pipeline:
  inputs:
    - name: dummy
      dummy: '${text} \${seq}'
      rate: 200
  outputs:
    - name: stdout
`;

/** The numbers of the lines starting with `word`, which must be 1..n in order. */
function numbered(lines: string[], word: string): number {
  const mine = lines.filter((l) => l.startsWith(`${word} `));
  assert.deepEqual(
    mine,
    Array.from({ length: mine.length }, (_, i) => `${word} ${i + 1}`),
    `"${word}" lines are 1..n`,
  );
  return mine.length;
}

test('SIGHUP with a valid new config switches the pipeline; with an invalid one keeps the old', async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, 'hup.yaml', config('old'));
  const agent = startCli(['run', 'hup.yaml'], { owner: t, cwd: dir });
  await agent.waitForLine(/^old 3$/);

  writeConfig(dir, 'hup.yaml', config('new'));
  agent.signal('SIGHUP');
  await agent.waitForLine(/^new 3$/);
  const firstNew = agent.stdout.indexOf('new 1');
  assert.ok(
    agent.stdout.slice(firstNew).every((l) => l.startsWith('new ')),
    'no old line after the switch',
  );
  const olds = numbered(agent.stdout, 'old');
  assert.equal(firstNew, olds, 'every old line came before the first new one');
  const done = agent.logs().find((l) => l.msg === 'reload complete');
  assert.ok(done, 'logs "reload complete"');
  assert.equal(done.lost, 0);

  writeConfig(
    dir,
    'hup.yaml',
    `
pipeline:
  inputs:
    - name: dummy
      dummy: 'broken \${seq}'
      samplse: 3
      rate: often
  outputs:
    - name: stdot
`,
  );
  const errLines = agent.stderr.length;
  agent.signal('SIGHUP');
  const rejected = await agent.waitForLine((l) => l.includes('reload rejected'), { stream: 'stderr', from: errLines });
  const log = JSON.parse(rejected) as { level: number; errors: string[]; msg: string };
  const keys = [...Object.keys(commonProperties.input), ...Object.keys(dummySchema.properties)].join(', ');
  const expected = [
    `hup.yaml:5:7: pipeline.inputs[0].samplse: unknown key "samplse" (did you mean "samples"?); allowed keys: ${keys}`,
    'hup.yaml:6:13: pipeline.inputs[0].rate: expected a number, found "often"',
    `hup.yaml:8:13: pipeline.outputs[0].name: unknown output plugin "stdot" (did you mean "stdout"?); available: ${builtinRegistry().names('output').join(', ')}`,
  ];
  assert.equal(log.level, 50);
  assert.deepEqual(log.errors, expected);
  assert.equal(log.msg, `reload rejected, still running the previous config:\n${log.errors.join('\n')}`);

  // Still running on the "new" pipeline.
  const before = agent.stdout.length;
  await agent.waitForLine(/^new \d+$/, { from: before });
  agent.signal('SIGTERM');
  assert.deepEqual(await waitExit(agent), { code: 0, signal: null });
  assert.ok(numbered(agent.stdout, 'new') >= 4);
  assert.equal(agent.stdout.filter((l) => l.startsWith('broken')).length, 0);
});

test('SIGHUP applies the service settings too: log_level, log_file and http_listen', async (t) => {
  const dir = tempDir(t);
  const [a, b] = [await freePort(), await freePort()];
  const cfg = (service: string) => `
service:
  grace: 3s
${service}
pipeline:
  inputs:
    - name: dummy
      dummy: 'x \${seq}'
      rate: 50
  outputs:
    - name: stdout
`;
  writeConfig(dir, 'hup.yaml', cfg(`  log_level: warn\n  http_listen: 127.0.0.1:${a}`));
  const agent = startCli(['run', 'hup.yaml'], { owner: t, cwd: dir });
  await agent.waitForLine(/^x 2$/);
  assert.equal((await httpGet(`http://127.0.0.1:${a}/api/v1/health`)).status, 200);

  // Level and endpoint: "reload complete" (info) shows only if the new level applies; the
  // metrics move from port a to port b.
  writeConfig(dir, 'hup.yaml', cfg(`  log_level: info\n  http_listen: 127.0.0.1:${b}`));
  agent.signal('SIGHUP');
  await agent.waitForLine((l) => l.includes('"reload complete"'), { stream: 'stderr' });
  assert.equal((await httpGet(`http://127.0.0.1:${b}/api/v1/health`)).status, 200);
  await assert.rejects(httpGet(`http://127.0.0.1:${a}/api/v1/health`, 1000), 'the old endpoint is closed');

  // The log moves to a file: stderr says where, the file gets what follows.
  writeConfig(dir, 'hup.yaml', cfg(`  log_level: info\n  log_file: agent.log\n  http_listen: 127.0.0.1:${b}`));
  const from = agent.stderr.length;
  agent.signal('SIGHUP');
  await agent.waitForLine((l) => l.includes("the agent's log continues in agent.log"), { stream: 'stderr', from });
  const file = join(dir, 'agent.log');
  await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').includes('reload complete'), {
    timeoutMs: 5000,
    intervalMs: 50,
    what: () => `"reload complete" in agent.log (${existsSync(file) ? readFileSync(file, 'utf8') : 'no file'})`,
  });
  assert.match(readFileSync(file, 'utf8'), /"msg":"reload complete"/);
  assert.equal((await httpGet(`http://127.0.0.1:${b}/api/v1/health`)).status, 200, 'an unchanged http_listen keeps serving');
  agent.signal('SIGTERM');
  assert.deepEqual(await waitExit(agent), { code: 0, signal: null });
  assert.ok(!agent.stderr.slice(from).some((l) => l.includes('reload complete')), 'after the switch the log goes to the file only');
});
