// Routing end to end through the real CLI: three dummy inputs with different tags, two stdout
// outputs with wildcard / list matches; each record reaches exactly the outputs that match its tag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, waitExit } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

test('records reach the outputs whose match covers their tag', async (t) => {
  const dir = tempDir(t);
  writeConfig(
    dir,
    'routing.yaml',
    `
service:
  grace: 2s
pipeline:
  inputs:
    - name: dummy
      alias: web
      tag: \${APP_TAG}
      dummy: '{"message":"web \${seq}"}'
      rate: 200
      samples: 3
    - name: dummy
      alias: kernel
      tag: sys.kernel
      dummy: 'kernel \${seq}'
      rate: 200
      samples: 3
    - name: dummy
      alias: nobody
      tag: other
      dummy: 'other \${seq}'
      rate: 200
      samples: 3
  outputs:
    # JSON lines (they carry the tag): everything under app.
    - name: stdout
      alias: apps
      format: json
      match: app.*
    # Plain lines: a list, one pattern of which matches sys.kernel (and app.web.access too).
    - name: stdout
      alias: systems
      match: [nothing, '*.kernel', '*.access']
`,
  );
  const agent = startCli(['run', 'routing.yaml'], { owner: t, cwd: dir, env: { APP_TAG: 'app.web.access' } });
  await agent.waitForLine((l) => l.includes('no output matches tag \\"other\\"'), { stream: 'stderr' });
  await waitFor(() => agent.stdout.length >= 9, { what: '9 lines on stdout' });
  agent.signal('SIGTERM');
  assert.deepEqual(await waitExit(agent), { code: 0, signal: null });

  const json = agent.stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const plain = agent.stdout.filter((l) => !l.startsWith('{'));
  assert.deepEqual(
    json.map((j) => [j.tag, j.message]),
    [1, 2, 3].map((n) => ['app.web.access', `web ${n}`]),
    'app.* got the app records, as JSON with their tag',
  );
  assert.ok(json.every((j) => typeof j.date === 'string' && !Number.isNaN(Date.parse(j.date as string))));
  assert.deepEqual(
    plain.filter((l) => l.startsWith('kernel')),
    ['kernel 1', 'kernel 2', 'kernel 3'],
  );
  assert.deepEqual(
    plain.filter((l) => l.startsWith('web')),
    ['web 1', 'web 2', 'web 3'],
    '*.access in the list matched too',
  );
  assert.equal(agent.stdout.length, 9, 'nothing else (no "other" records)');
});
