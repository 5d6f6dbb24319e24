// The real agent: tail with `parser:` -> stdout json, a config `parsers:` entry used by the parser
// filter, and a bad regex reported at its file:line:column (exit 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { writeConfig } from '../../helpers/tmp.js';
import { lines, started, startAgent, stop, tailConfig, tempDir } from '../tail/cli.js';

test('CLI: tail with parser: nginx -> stdout json with the exact fields; a line it cannot read stays a line', async (t) => {
  const dir = tempDir(t, 'qlog-parser-cli-');
  const path = join(dir, 'access.log');
  writeFileSync(
    path,
    [
      '192.168.1.20 - - [05/Dec/2026:02:07:22 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"',
      'nginx: [warn] this is not an access line',
      '10.1.2.3 - alice [05/Dec/2026:02:07:23 +0100] "POST /api/v1/items?id=7 HTTP/2.0" 201 153 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"',
      '',
    ].join('\n'),
  );
  const a = startAgent(t, dir, tailConfig(dir, { path, read_from_head: true, parser: 'nginx' }, { format: 'json' }));
  await started(a);
  await lines(a, 3);
  await stop(a);
  const recs = a.stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const r of recs) delete r.meta;
  assert.deepEqual(recs, [
    {
      date: '2026-12-05T02:07:22.000000000Z',
      tag: `app.${path.replace(/\//g, '.').replace(/^\./, '')}`,
      remote: '192.168.1.20',
      host: '-',
      user: '-',
      method: 'GET',
      path: '/healthz',
      code: 200,
      size: 2,
      referer: '-',
      agent: 'kube-probe/1.29',
    },
    { date: recs[1]!.date, tag: recs[0]!.tag, log: 'nginx: [warn] this is not an access line' },
    {
      date: '2026-12-05T01:07:23.000000000Z',
      tag: recs[0]!.tag,
      remote: '10.1.2.3',
      host: '-',
      user: 'alice',
      method: 'POST',
      path: '/api/v1/items?id=7',
      code: 201,
      size: 153,
      referer: 'https://example.com/',
      agent: 'Mozilla/5.0 (X11; Linux x86_64)',
    },
  ]);
});

test('CLI: a parser from the top-level parsers: list, used by the parser filter', async (t) => {
  const dir = tempDir(t, 'qlog-parser-cli-');
  const cfg = writeConfig(
    dir,
    'cfg.yaml',
    `
service:
  state_dir: ${dir}/state
parsers:
  - name: app
    format: regex
    regex: '^(?<time>\\S+ \\S+) (?<level>[A-Z]+) \\[(?<thread>[^\\]]+)\\] (?<message>.*)$'
    time_format: '%Y-%m-%d %H:%M:%S,%L'
pipeline:
  inputs:
    - name: dummy
      tag: app
      samples: 1
      dummy: '2024-03-01 12:00:00,250 ERROR [main] connection refused'
  filters:
    - name: parser
      parser: [json, app]
  outputs:
    - name: stdout
      format: json
`,
  );
  const a = startAgent(t, dir, cfg);
  await started(a);
  await lines(a, 1);
  await stop(a);
  assert.deepEqual(JSON.parse(a.stdout[0]!), {
    date: '2024-03-01T12:00:00.250000000Z',
    tag: 'app',
    level: 'ERROR',
    thread: 'main',
    message: 'connection refused',
  });
});

test('CLI: a bad regex, a bad time_format and an unknown parser exit 2 at file:line:column', async (t) => {
  const dir = tempDir(t, 'qlog-parser-cli-');
  writeConfig(
    dir,
    'bad.yaml',
    `parsers:
  - name: broken
    format: regex
    regex: '^(?<a>[a-z'
  - name: when
    format: json
    time_format: '%Y %Q'
pipeline:
  inputs:
    - name: tail
      path: /tmp/x.log
      parser: nginxx
  outputs:
    - name: stdout
`,
  );
  const r = await runCli(['validate', 'bad.yaml'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /bad\.yaml:4:12: .*parsers\[0\]\.regex: invalid regex: .*Unterminated character class/);
  assert.match(r.stderr, /bad\.yaml:7:18: .*parsers\[1\]\.time_format: unknown time_format directive "%Q"/);
  assert.match(r.stderr, /bad\.yaml:12:15: .*pipeline\.inputs\[0\]\.parser: unknown parser "nginxx"; available: apache, cri/);
});
