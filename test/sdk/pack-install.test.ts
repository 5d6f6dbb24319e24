// The plugin author's and the user's path, for real: pack this project (npm pack of the built dist/),
// install the tarball in a fresh project from a local path (no registry: --offline, qlog's own
// dependencies come from the npm cache that `npm ci` filled), scaffold a plugin with the installed
// `qlog new-plugin` and run its npm test, build/test/pack the example plugin and install it, run
// `qlog run` with it, and check the messages for a version mismatch, a missing package, a duplicate
// name, a throwing plugin and a CJS plugin. Slow (npm): everything shares one packed tarball.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { VERSION } from '../../core/version.js';
import {
  cleanTemps,
  copyPackage,
  ensureBuilt,
  EXAMPLE,
  installLocal as installIn,
  node,
  npm as npmIn,
  packQlog,
  ROOT,
  runAgentUntil,
  tempDir,
  type RunResult,
} from './helpers.js';

let T: string;
let qlogTgz: string;
let proj: string;
let bin: string;
let hello: string;
// dist/ and the addon come from this checkout; the installed copies skip the native build.
const SKIP_NATIVE = { QLOG_SKIP_NATIVE_BUILD: '1' };
const npm = (args: string[], cwd: string) => npmIn(args, cwd, SKIP_NATIVE);
const installLocal = (cwd: string, specs: string[], extra: string[] = []) => installIn(cwd, specs, extra, SKIP_NATIVE);

/** The dev tools of a plugin package (typescript, tsx, @types/node) from this repo's node_modules. */
function linkDevTools(pkgDir: string): void {
  const nm = join(pkgDir, 'node_modules');
  mkdirSync(join(nm, '.bin'), { recursive: true });
  mkdirSync(join(nm, '@types'), { recursive: true });
  for (const m of ['typescript', 'tsx', '@types/node']) if (!existsSync(join(nm, m))) symlinkSync(join(ROOT, 'node_modules', m), join(nm, m), 'dir');
  if (!existsSync(join(nm, '.bin/tsc'))) symlinkSync('../typescript/bin/tsc', join(nm, '.bin/tsc'));
}

before(async () => {
  ensureBuilt();
  T = tempDir('qlog-pack-');
  // dist/ is fresh (npm test builds first): packQlog skips the prepare script's rebuild.
  qlogTgz = await packQlog(T);
  assert.equal(qlogTgz, join(T, `qlog-${VERSION}.tgz`));
  proj = join(T, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'proj', private: true }));
  await installLocal(proj, [qlogTgz]);
  bin = join(proj, 'node_modules/qlog/dist/core/cli/main.js');
  assert.ok(existsSync(join(proj, 'node_modules/.bin/qlog')));
});
after(cleanTemps);

test('the installed package: CLI, ESM and CJS entries, qlog/testing, docs', async () => {
  const v = await node([join(proj, 'node_modules/.bin/qlog'), '--version'], { cwd: proj });
  assert.equal(v.stdout.trim(), `qlog ${VERSION}`);
  const esm = await node(
    [
      '--input-type=module',
      '-e',
      "import { definePlugin, VERSION } from 'qlog'; import { createHarness } from 'qlog/testing'; console.log(typeof definePlugin, typeof createHarness, VERSION)",
    ],
    { cwd: proj },
  );
  assert.equal(esm.stdout.trim(), `function function ${VERSION}`, esm.stderr);
  const cjs = await node(
    ['-e', "const q = require('qlog'); const t = require('qlog/testing'); console.log(typeof q.definePlugin, typeof t.createHarness, q.VERSION)"],
    { cwd: proj },
  );
  assert.equal(cjs.stdout.trim(), `function function ${VERSION}`, cjs.stderr);
  for (const f of ['dist/core/index.d.ts', 'dist/core/index.d.cts', 'dist/core/testing/index.d.cts', 'docs/plugins.md'])
    assert.ok(existsSync(join(proj, 'node_modules/qlog', f)), f);
});

test('qlog new-plugin (installed CLI) writes a package whose npm test passes after installing qlog from the tarball', async () => {
  hello = join(T, 'qlog-plugin-hello');
  const gen = await node([bin, 'new-plugin', 'hello', '--kind', 'filter', '--dir', hello], { cwd: T });
  assert.equal(gen.status, 0, gen.stderr);
  // qlog is its peer dependency: installed from the tarball; the dev tools come from this repo.
  await installLocal(hello, [qlogTgz], ['--no-save', '--omit=dev']);
  linkDevTools(hello);
  const t = await npm(['test'], hello);
  assert.match(t.stdout, /# pass 5\n# fail 0/);
});

test('the example plugin: its tests pass, it builds, packs, installs from a local path and masks secrets under qlog run', async (t) => {
  if (!hello) t.skip('needs the scaffold test');
  const ex = join(T, 'secret-mask');
  copyPackage(EXAMPLE, ex);
  symlinkSync(join(hello, 'node_modules'), join(ex, 'node_modules'), 'dir');
  const tests = await npm(['test'], ex);
  assert.match(tests.stdout, /# fail 0/);
  await npm(['run', 'build'], ex);
  const packed = await npm(['pack', '--ignore-scripts', '--pack-destination', T], ex);
  const tgz = join(T, packed.stdout.trim().split('\n').pop()!);
  await installLocal(proj, [tgz]);

  writeFileSync(
    join(proj, 'mask.yaml'),
    `
service:
  log_level: warn
  plugins: [qlog-plugin-secret-mask]
pipeline:
  inputs:
    - name: dummy
      tag: app
      rate: 50
      samples: 3
      dummy: 'login user=bob password=hunter2 key=AKIAIOSFODNN7EXAMPLE n=\${seq}'
  filters:
    - name: secret-mask
      mask: '<\${rule}>'
  outputs:
    - name: stdout
`,
  );
  const r = await runAgentUntil(bin, 'mask.yaml', (out) => out.split('\n').filter(Boolean).length >= 3, { cwd: proj });
  assert.ok(r.ready, `no output:\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.stdout.trim().split('\n'),
    [1, 2, 3].map((n) => `login user=bob password=<key_value> key=<aws_access_key_id> n=${n}`),
  );

  const list = await node([bin, 'plugins', '-c', 'mask.yaml'], { cwd: proj });
  assert.match(list.stdout, /secret-mask\s+Masks secrets .* \[qlog-plugin-secret-mask\]/);
  const json = JSON.parse((await node([bin, 'plugins', '--json', '-c', 'mask.yaml', 'secret-mask'], { cwd: proj })).stdout) as {
    origin: string;
    schema: { properties: object };
  }[];
  assert.equal(json[0]!.origin, 'qlog-plugin-secret-mask');
  assert.deepEqual(Object.keys(json[0]!.schema.properties), ['rules', 'patterns', 'keys', 'mask', 'show_last']);
});

/** A plugin file in the project, importing the installed qlog like an npm plugin would. */
function plugin(file: string, text: string): void {
  writeFileSync(join(proj, file), text);
}
const filterSrc = (name: string, range: string, body = 'return c;') => `import { definePlugin } from 'qlog';
export default definePlugin({ kind: 'filter', name: '${name}', description: 'test', qlog: '${range}',
  schema: { type: 'object', additionalProperties: false, properties: {} },
  setup(ctx) { ctx.hooks.chunk.tap('${name}', (c) => { ${body} }); } });
`;

async function validate(config: string): Promise<RunResult> {
  writeFileSync(join(proj, 'v.yaml'), config);
  return node([bin, 'validate', 'v.yaml'], { cwd: proj });
}

test('clear messages: version range mismatch, missing package, duplicate names (exit 2)', async () => {
  plugin('old.mjs', filterSrc('old', '^0.0.1'));
  const old = await validate(`service: { plugins: [./old.mjs] }\npipeline: { inputs: [{ name: dummy }] }\n`);
  assert.equal(old.status, 2);
  assert.match(
    old.stderr,
    new RegExp(
      `v\\.yaml:1:22: service\\.plugins\\[0\\]: plugin "old" supports qlog \\^0\\.0\\.1, but this is qlog ${VERSION.replace(/\./g, '\\.')}; upgrade qlog or install a plugin version made for it`,
    ),
  );

  const missing = await validate(`service: { plugins: [qlog-plugin-nope] }\npipeline: { inputs: [{ name: dummy }] }\n`);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /plugin package "qlog-plugin-nope" not found \(looked in node_modules in .*\); install it with: npm install qlog-plugin-nope/);

  plugin('dup-a.mjs', filterSrc('dup', '*'));
  plugin('dup-b.mjs', filterSrc('dup', '*'));
  plugin(
    'stdout.mjs',
    "import { definePlugin } from 'qlog';\nexport default definePlugin({ kind: 'output', name: 'stdout', description: 'x', qlog: '*', schema: { type: 'object', additionalProperties: false, properties: {} }, setup() {} });\n",
  );
  const dup = await validate(`service: { plugins: [./dup-a.mjs, ./dup-b.mjs, ./stdout.mjs] }\npipeline: { inputs: [{ name: dummy }] }\n`);
  assert.equal(dup.status, 2);
  assert.match(
    dup.stderr,
    /service\.plugins\[1\]: plugin name "dup" from "\.\/dup-b\.mjs" clashes with the filter plugin "dup" from "\.\/dup-a\.mjs"; rename one of them/,
  );
  assert.match(
    dup.stderr,
    /service\.plugins\[2\]: plugin name "stdout" from "\.\/stdout\.mjs" clashes with the built-in output plugin "stdout"; rename one of them/,
  );
});

test('a throwing filter is contained: records still flow, the error is logged; a throwing setup stops the start (exit 1)', async () => {
  plugin('throwing.mjs', filterSrc('throwing', `^${VERSION}`, "throw new Error('filter bug');"));
  writeFileSync(
    join(proj, 'throw.yaml'),
    `
service: { plugins: [./throwing.mjs] }
pipeline:
  inputs: [{ name: dummy, dummy: 'line \${seq}', rate: 50, samples: 3 }]
  filters: [{ name: throwing }]
  outputs: [{ name: stdout }]
`,
  );
  const r = await runAgentUntil(bin, 'throw.yaml', (out) => out.split('\n').filter(Boolean).length >= 3, { cwd: proj });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['line 1', 'line 2', 'line 3']);
  assert.match(r.stderr, /throwing\.0: filter failed: filter bug/);

  plugin('bad-setup.mjs', filterSrc('bad_setup', '*').replace('setup(ctx) {', "setup(ctx) { throw new Error('cannot open device');"));
  writeFileSync(
    join(proj, 'setup.yaml'),
    `service: { plugins: [./bad-setup.mjs] }\npipeline:\n  inputs: [{ name: dummy }]\n  filters: [{ name: bad_setup }]\n  outputs: [{ name: stdout }]\n`,
  );
  const s = await node([bin, 'run', 'setup.yaml'], { cwd: proj, timeout: 15_000 });
  assert.equal(s.status, 1);
  assert.match(s.stderr, /qlog: failed to start: plugin instance bad_setup\.0 failed during setup: cannot open device/);
});

test('a CommonJS plugin (require("qlog")) runs in the agent and in require("qlog/testing"); its PermanentError drops', async () => {
  plugin(
    'cjs-out.cjs',
    `const { definePlugin, PermanentError, recordLine } = require('qlog');
module.exports = definePlugin({
  kind: 'output', name: 'cjs_out', description: 'CommonJS output', qlog: '^${VERSION}',
  schema: { type: 'object', additionalProperties: false, properties: { prefix: { type: 'string', default: 'cjs:', description: 'p' } } },
  setup(ctx) {
    ctx.hooks.flush.tapPromise('cjs_out', async (chunk) => {
      if (chunk.records.some((r) => recordLine(r).includes('poison'))) throw new PermanentError('poison record');
      for (const r of chunk.records) process.stdout.write(ctx.options.prefix + recordLine(r) + '\\n');
    });
  },
});
`,
  );
  writeFileSync(
    join(proj, 'cjs.yaml'),
    `
service: { plugins: [./cjs-out.cjs] }
pipeline:
  inputs:
    - { name: dummy, tag: ok, dummy: 'fine \${seq}', rate: 50, samples: 2 }
    - { name: dummy, tag: bad, dummy: 'poison', samples: 1 }
  outputs: [{ name: cjs_out, prefix: '> ', retry_limit: 5 }]
`,
  );
  const r = await runAgentUntil(
    bin,
    'cjs.yaml',
    (out, err) => out.split('\n').filter(Boolean).length >= 2 && /dropping 1 records of bad: poison record/.test(err),
    { cwd: proj },
  );
  assert.ok(r.ready, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.deepEqual(r.stdout.trim().split('\n').sort(), ['> fine 1', '> fine 2']);
  assert.doesNotMatch(r.stderr, /retrying/, 'a PermanentError is not retried');

  writeFileSync(
    join(proj, 'cjs-test.cjs'),
    `const assert = require('node:assert/strict');
const { createHarness } = require('qlog/testing');
const plugin = require('./cjs-out.cjs');
(async () => {
  const h = await createHarness(plugin, { options: { retry_limit: 3 } });
  const r = await h.flush(['poison']);
  assert.equal(r.status, 'dropped');
  assert.equal(r.attempts, 1);
  await h.stop();
  console.log('cjs harness ok');
})();
`,
  );
  const c = await node(['cjs-test.cjs'], { cwd: proj });
  assert.equal(c.stdout.trim(), 'cjs harness ok', c.stderr);
});

test('the packed files: exports, the plugin guide and the example; no tests', () => {
  const pkg = JSON.parse(readFileSync(join(proj, 'node_modules/qlog/package.json'), 'utf8')) as { exports: Record<string, unknown> };
  assert.ok(pkg.exports['./testing']);
  assert.equal(existsSync(join(proj, 'node_modules/qlog/test')), false);
  assert.ok(existsSync(join(proj, 'node_modules/qlog/docs/plugins.md')));
  assert.ok(existsSync(join(proj, 'node_modules/qlog/docs/examples/qlog-plugin-secret-mask/src/index.ts')));
});
