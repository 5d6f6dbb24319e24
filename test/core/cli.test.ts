// The command line: plugins (list, one plugin's options, --json), --version, --help, help <cmd>,
// and usage errors (unknown command, missing file, unknown option) with exit status 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import { builtinRegistry } from '../../core/builtins.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const registry = builtinRegistry();

test('qlog plugins lists every built-in plugin by kind with its description', async () => {
  const r = await runCli(['plugins']);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  const lines = r.stdout.split('\n');
  const expected: string[] = [];
  for (const kind of ['input', 'filter', 'output'] as const) {
    const ps = registry.list(kind);
    if (!ps.length) continue;
    expected.push(`${kind}s:`, ...ps.map((p) => `  ${p.name.padEnd(16)}${p.description}`));
  }
  assert.deepEqual(lines.slice(0, expected.length), expected);
  assert.deepEqual(lines.slice(expected.length), ['', 'Run "qlog plugins <name>" for a plugin\'s options.', '']);
});

test('qlog plugins stdout shows its options and the common output options', async () => {
  const r = await runCli(['plugins', 'stdout']);
  assert.equal(r.code, 0);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'stdout (output, built-in): Writes records to standard output: the line as is, or JSON.');
  assert.equal(lines[2], 'Options:');
  assert.match(lines[3]!, /^ {2}format +line \| json +\[default: line\] line: the record's line as is/);
  assert.match(lines[4]!, /^ {2}include_meta +boolean +\[default: false\] json format: /);
  assert.ok(lines.includes('Common output options:'));
  for (const key of ['match', 'buffer_limit', 'workers', 'retry_limit', 'retry_base', 'retry_max']) {
    assert.ok(
      lines.some((l) => l.startsWith(`  ${key} `)),
      `common option ${key} listed`,
    );
  }
  assert.ok(lines.some((l) => /^ {2}buffer_limit +size +\[default: 8MiB\]/.test(l)));
});

test('qlog plugins --json: kind, name, description and JSON Schema of each plugin', async () => {
  const r = await runCli(['plugins', '--json']);
  assert.equal(r.code, 0);
  const list = JSON.parse(r.stdout) as {
    kind: string;
    name: string;
    description: string;
    schema: { type: string; properties: Record<string, { description?: string }>; additionalProperties: boolean };
  }[];
  assert.deepEqual(
    list.map((p) => `${p.kind}:${p.name}`),
    registry.list().map((p) => `${p.kind}:${p.name}`),
  );
  for (const p of list) {
    assert.ok(['input', 'filter', 'output'].includes(p.kind), p.name);
    assert.ok(p.description.length > 10, `${p.name} has a description`);
    assert.equal(p.schema.type, 'object', p.name);
    assert.equal(p.schema.additionalProperties, false, p.name);
    for (const [k, v] of Object.entries(p.schema.properties)) assert.ok(v.description, `${p.name}.${k} has a description`);
  }
  const dummy = list.find((p) => p.name === 'dummy')!;
  assert.equal(dummy.kind, 'input');
  assert.deepEqual(Object.keys(dummy.schema.properties), ['dummy', 'rate', 'samples']);

  const one = await runCli(['plugins', 'stdout', '--json']);
  assert.deepEqual(
    (JSON.parse(one.stdout) as { name: string }[]).map((p) => p.name),
    ['stdout'],
  );
});

test('--version, -V, --help, help <command>, <command> --help', async () => {
  const [v1, v2, help, h1, h2] = await Promise.all([['--version'], ['-V'], ['--help'], ['help', 'validate'], ['validate', '--help']].map((a) => runCli(a)));
  for (const v of [v1, v2]) assert.deepEqual(v, { code: 0, signal: null, stdout: `qlog ${VERSION}\n`, stderr: '' });
  assert.equal(help!.code, 0);
  assert.ok(help!.stdout.startsWith(`qlog ${VERSION} — `));
  assert.match(help!.stdout, /\nUsage: qlog <command> \[options\]\n/);
  for (const cmd of ['run', 'validate', 'plugins', 'help']) assert.match(help!.stdout, new RegExp(`\\n  ${cmd} +\\S`), `help lists ${cmd}`);
  assert.match(help!.stdout, /Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error\./);

  assert.equal(h1!.code, 0);
  assert.equal(h2!.code, 0);
  assert.equal(h1!.stdout, h2!.stdout);
  assert.match(h1!.stdout, /^Check a config file without running it/);
  assert.match(h1!.stdout, /Usage: qlog validate <config\.yaml>/);
});

test('usage errors exit 2 with a message on stderr', async () => {
  const cases: [string[], RegExp][] = [
    [['frob'], /^qlog: unknown command "frob"; run "qlog --help" for the list\n$/],
    [['run'], /^qlog: expected one config file\n\nRun the agent/],
    [['validate'], /^qlog: expected one config file\n/],
    [['validate', 'a.yaml', 'b.yaml'], /^qlog: expected one config file\n/],
    [['validate', '--bogus', 'x.yaml'], /^qlog: unknown option "--bogus"; this command takes: no options\n\nCheck a config file/],
    [['plugins', 'nope'], new RegExp(`^qlog: unknown plugin "nope"; available: ${registry.names().join(', ')}\n$`)],
    // Close misspellings get a suggestion, like config keys do.
    [['vaildate'], /^qlog: unknown command "vaildate" \(did you mean "validate"\?\); run "qlog --help" for the list\n$/],
    [['run', '--confg', 'x.yaml'], /^qlog: unknown option "--confg" \(did you mean "--config"\?\); this command takes: --config, -c\n/],
    [
      ['monitor', '--trasport', 'unix:///x', 'c.toml'],
      /^qlog: unknown option "--trasport" \(did you mean "--transport"\?\); this command takes: --cid, -c, --transport, /,
    ],
    [['plugins', 'tial'], /^qlog: unknown plugin "tial" \(did you mean "tail"\?\); available: /],
  ];
  const results = await Promise.all(cases.map(([args]) => runCli(args)));
  for (const [i, [args, stderr]] of cases.entries()) {
    const r = results[i]!;
    assert.equal(r.code, 2, `qlog ${args.join(' ')}: exit status`);
    assert.match(r.stderr, stderr, `qlog ${args.join(' ')}: stderr`);
    assert.equal(r.stdout, '', `qlog ${args.join(' ')}: stdout`);
  }
  const bare = await runCli([]);
  assert.equal(bare.code, 2, 'no command: help and status 2');
  assert.match(bare.stdout, /Usage: qlog <command>/);
});

test('a reader that went away (qlog plugins | head -0) ends qlog quietly, status 0', async () => {
  const child = spawn(process.execPath, [CLI, 'plugins', 'dummy'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  // Close our end before qlog writes anything: its first write fails with EPIPE.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});
