// qlog new-plugin: names, arguments, the files it writes, and that each generated package
// type-checks and passes its own tests (against this repo's build; the npm flow is in pack-install).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { names } from '../../core/scaffold/scaffold.js';
import { KINDS } from '../../core/scaffold/scaffold-kinds.js';
import { VERSION } from '../../core/version.js';
import { runCli } from '../helpers/cli.js';
import { cleanTemps, ensureBuilt, linkHostModules, node, tempDir, TSC } from './helpers.js';

after(cleanTemps);

test('package and plugin names', () => {
  assert.deepEqual(names('hello'), { pkg: 'qlog-plugin-hello', name: 'hello' });
  assert.deepEqual(names('qlog-plugin-geo_ip'), { pkg: 'qlog-plugin-geo_ip', name: 'geo_ip' });
  assert.deepEqual(names('@acme/qlog-plugin-kafka'), { pkg: '@acme/qlog-plugin-kafka', name: 'kafka' });
  assert.deepEqual(names('@acme/splunk'), { pkg: '@acme/splunk', name: 'splunk' });
  assert.throws(() => names('Hello'), /"Hello" is not a valid npm package name/);
  assert.throws(() => names('qlog-plugin-9lives'), /the plugin name "9lives" .* must start with a letter/);
});

test('usage errors exit 2 with a message', async (t) => {
  ensureBuilt();
  const dir = tempDir();
  const cases: [string[], RegExp][] = [
    [['new-plugin', 'x'], /--kind is required \(input, filter or output\)/],
    [['new-plugin', 'x', '--kind', 'parser'], /--kind must be input, filter or output, found "parser"/],
    [['new-plugin', '--kind', 'filter'], /expected one plugin name/],
    [['new-plugin', 'Bad Name', '--kind', 'filter'], /"Bad Name" is not a valid npm package name/],
    [['new-plugin', 'x', '--kind', 'filter', '--colour'], /unknown option "--colour"/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args, { cwd: dir, owner: t });
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
  writeFileSync(join(dir, 'keep.txt'), 'mine');
  const r = await runCli(['new-plugin', 'x', '--kind', 'filter', '--dir', dir], { cwd: dir, owner: t });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exists and is not empty; choose another --dir, or add --force/);
  const forced = await runCli(['new-plugin', 'x', '--kind', 'filter', '--dir', dir, '--force'], { cwd: dir, owner: t });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(readFileSync(join(dir, 'keep.txt'), 'utf8'), 'mine');
  const help = await runCli(['--help'], { cwd: dir, owner: t });
  assert.match(help.stdout, /new-plugin\s+Create an npm package for a new input, filter or output plugin/);
});

test('the generated package: files, package.json, README table, schema', async (t) => {
  ensureBuilt();
  const dir = tempDir();
  const r = await runCli(['new-plugin', '@acme/qlog-plugin-scrub', '--kind', 'filter'], { cwd: dir, owner: t });
  assert.equal(r.code, 0, r.stderr);
  const pkgDir = join(dir, 'qlog-plugin-scrub');
  assert.match(r.stdout, /Created @acme\/qlog-plugin-scrub \(filter plugin "scrub"\) in qlog-plugin-scrub:/);
  // qlog is not on the registry: the next steps give the plugin its peer dependency first.
  assert.match(
    r.stdout,
    new RegExp(
      `cd qlog-plugin-scrub\\n  npm install --save-dev /path/to/qlog-${VERSION.replace(/\./g, '\\.')}\\.tgz .*\\n.*npm link qlog.*\\n  npm install .*\\n  npm test`,
    ),
  );
  for (const f of [
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    '.gitignore',
    'README.md',
    'src/schema.ts',
    'src/index.ts',
    'test/scrub.test.ts',
    'scripts/docs.ts',
  ]) {
    assert.ok(existsSync(join(pkgDir, f)), f);
  }
  const pj = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, Record<string, string> & string[] & string>;
  assert.equal(pj.name, '@acme/qlog-plugin-scrub');
  assert.equal(pj.type, 'module');
  assert.deepEqual(pj.peerDependencies, { qlog: `^${VERSION}` });
  assert.equal(pj.devDependencies!.qlog, undefined, 'qlog is a peer dependency only (npm installs peers)');
  for (const d of ['typescript', 'tsx', '@types/node']) assert.ok(pj.devDependencies![d], d);
  assert.deepEqual(pj.keywords, ['qlog', 'qlog-plugin', 'qlog-filter']);
  assert.match(pj.scripts!.build!, /^tsc /);
  assert.match(pj.scripts!.test!, /node --import tsx --test/);
  assert.deepEqual(pj.files, ['dist', 'README.md']);
  const src = readFileSync(join(pkgDir, 'src/index.ts'), 'utf8');
  assert.match(src, /name: 'scrub'/);
  assert.match(src, new RegExp(`qlog: '\\^${VERSION.replace(/\./g, '\\.')}'`));
  const schemaMod = (await import(join(pkgDir, 'src/schema.ts'))) as { schema: unknown };
  assert.deepEqual(schemaMod.schema, KINDS.filter.schema);
  const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
  assert.match(readme, /<!-- options -->\n\| option \| type \| default \| description \|\n\|---\|---\|---\|---\|\n\| `pattern` \| string \| `DEBUG` \|/);
  assert.match(readme, /service:\n {2}plugins: \[@acme\/qlog-plugin-scrub\]/);
});

test('each kind: the generated package type-checks and its tests pass', async () => {
  ensureBuilt();
  const root = tempDir();
  const kinds = ['input', 'filter', 'output'] as const;
  for (const kind of kinds) {
    const dir = join(root, kind);
    const gen = await node([join(process.cwd(), 'dist/core/cli/main.js'), 'new-plugin', `my-${kind}`, '--kind', kind, '--dir', dir], { cwd: root });
    assert.equal(gen.status, 0, gen.stderr);
    linkHostModules(dir);
  }
  // One tsc and one test run for the three packages (each resolves qlog from its own node_modules).
  linkHostModules(root);
  writeFileSync(
    join(root, 'tsconfig.json'),
    JSON.stringify({ extends: './filter/tsconfig.json', include: kinds.flatMap((k) => [`${k}/src`, `${k}/test`, `${k}/scripts`]) }),
  );
  const tsc = await node([TSC, '-p', 'tsconfig.json'], { cwd: root, timeout: 90_000 });
  assert.equal(tsc.status, 0, `tsc\n${tsc.stdout}${tsc.stderr}`);
  const tests = await node(['--import', 'tsx', '--test', ...kinds.map((k) => `${k}/test/my-${k}.test.ts`)], { cwd: root, timeout: 90_000 });
  assert.equal(tests.status, 0, `tests\n${tests.stdout}${tests.stderr}`);
  assert.match(tests.stdout, /# pass 1[0-9]\n# fail 0\n/);
});
