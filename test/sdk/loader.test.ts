// service.plugins: how specs resolve (paths, packages, exports conditions, ESM and CJS) and the
// clear errors for every way a plugin can fail to load (fastify-plugin style checks).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { builtinRegistry } from '../../core/builtins.js';
import { loadConfig } from '../../core/config/load.js';
import { ConfigError, QlogError, type ErrorCode } from '../../core/errors.js';
import { loadPlugins, resolvePluginSpec } from '../../core/plugin/loader.js';
import { VERSION } from '../../core/version.js';
import { ROOT, runCli, startCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';

interface Fake {
  kind?: string;
  name?: string;
  qlog?: string;
  schema?: string;
  brand?: boolean;
  format?: 'esm' | 'cjs' | 'cjs-default';
  before?: string;
}

/** A plugin module that does not need qlog installed: the brand is the registered symbol. */
function source(f: Fake = {}): string {
  const kind = f.kind ?? 'filter';
  const hook = kind === 'output' ? "ctx.hooks.flush.tapPromise('t', async () => {})" : kind === 'filter' ? "ctx.hooks.chunk.tap('t', (c) => c)" : '';
  const obj = `Object.freeze({ kind: ${JSON.stringify(kind)}, name: ${JSON.stringify(f.name ?? 'fake')}, description: 'a fake plugin', qlog: ${JSON.stringify(f.qlog ?? '>=0.0.0')},
  schema: ${f.schema ?? "{ type: 'object', additionalProperties: false, properties: { n: { type: 'integer', default: 1, description: 'n' } } }"},
  setup(ctx) { ${hook} }${f.brand === false ? '' : ", [Symbol.for('qlog.plugin')]: true"} })`;
  const pre = f.before ?? '';
  if (f.format === 'cjs') return `${pre}\nmodule.exports = ${obj};\n`;
  if (f.format === 'cjs-default') return `${pre}\nObject.defineProperty(exports, '__esModule', { value: true });\nexports.default = ${obj};\n`;
  return `${pre}\nexport default ${obj};\n`;
}

function write(file: string, text: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

async function load(specs: string[], dir: string, opts = {}) {
  const registry = builtinRegistry();
  const loaded = await loadPlugins(specs, dir, registry, opts);
  return { registry, loaded };
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof QlogError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

test('a relative path resolves from the config directory first, then the working directory', async (t) => {
  const dir = tempDir(t);
  write(join(dir, 'conf/plugins/a.mjs'), source({ name: 'from-config-dir' }));
  const { loaded } = await load(['./plugins/a.mjs'], join(dir, 'conf'));
  assert.equal(loaded[0]!.name, 'from-config-dir');
  // Not under the config dir: found relative to the working directory (a path inside this repo).
  assert.equal(resolvePluginSpec('./package.json', dir), join(process.cwd(), 'package.json'));
});

test('ESM, CommonJS (module.exports) and CommonJS compiled from ESM (exports.default)', async (t) => {
  const dir = tempDir(t);
  write(join(dir, 'e.mjs'), source({ name: 'esm' }));
  write(join(dir, 'c.cjs'), source({ name: 'cjs', format: 'cjs' }));
  write(join(dir, 'd.cjs'), source({ name: 'cjs-default', format: 'cjs-default' }));
  write(join(dir, 'noext.js'), source({ name: 'no-extension' }));
  write(join(dir, 'package.json'), '{ "type": "module" }');
  const { loaded, registry } = await load(['./e.mjs', './c.cjs', './d.cjs', './noext'], dir);
  assert.deepEqual(
    loaded.map((p) => p.name),
    ['esm', 'cjs', 'cjs-default', 'no-extension'],
  );
  const viaUrl = await load([pathToFileURL(join(dir, 'e.mjs')).href], '/');
  assert.equal(viaUrl.loaded[0]!.name, 'esm');
  assert.equal(registry.origin(loaded[1]!), './c.cjs');
});

test('packages: node_modules above the config dir, "exports" import condition preferred, subpaths, scopes, main, folders', async (t) => {
  const dir = tempDir(t);
  const nm = join(dir, 'node_modules');
  write(
    join(nm, 'qlog-plugin-dual/package.json'),
    JSON.stringify({
      name: 'qlog-plugin-dual',
      exports: {
        '.': { types: './x.d.ts', require: './index.cjs', import: './index.mjs' },
        './extra': { import: './extra.mjs' },
        './package.json': './package.json',
      },
    }),
  );
  write(join(nm, 'qlog-plugin-dual/index.mjs'), source({ name: 'dual-esm' }));
  write(join(nm, 'qlog-plugin-dual/index.cjs'), source({ name: 'dual-cjs', format: 'cjs' }));
  write(join(nm, 'qlog-plugin-dual/extra.mjs'), source({ name: 'dual-extra' }));
  write(join(nm, 'qlog-plugin-cjs/package.json'), JSON.stringify({ name: 'qlog-plugin-cjs', exports: { require: './lib/main.js' } }));
  write(join(nm, 'qlog-plugin-cjs/lib/main.js'), source({ name: 'require-only', format: 'cjs' }));
  write(join(nm, 'qlog-plugin-main/package.json'), JSON.stringify({ name: 'qlog-plugin-main', main: 'lib/entry' }));
  write(join(nm, 'qlog-plugin-main/lib/entry.js'), source({ name: 'main-field', format: 'cjs' }));
  write(join(nm, '@me/qlog-plugin-scoped/package.json'), JSON.stringify({ name: '@me/qlog-plugin-scoped', type: 'module', exports: './dist/index.js' }));
  write(join(nm, '@me/qlog-plugin-scoped/dist/index.js'), source({ name: 'scoped' }));
  write(join(nm, 'qlog-plugin-pattern/package.json'), JSON.stringify({ name: 'qlog-plugin-pattern', exports: { './*': { import: './lib/*.mjs' } } }));
  write(join(nm, 'qlog-plugin-pattern/lib/one.mjs'), source({ name: 'pattern-one' }));
  write(join(dir, 'local/package.json'), JSON.stringify({ name: 'local', type: 'module', main: './src/plugin.js' }));
  write(join(dir, 'local/src/plugin.js'), source({ name: 'local-folder' }));
  const conf = join(dir, 'etc/qlog');
  mkdirSync(conf, { recursive: true });
  const { loaded } = await load(
    ['qlog-plugin-dual', 'qlog-plugin-dual/extra', 'qlog-plugin-cjs', 'qlog-plugin-main', '@me/qlog-plugin-scoped', 'qlog-plugin-pattern/one', '../../local'],
    conf,
  );
  assert.deepEqual(
    loaded.map((p) => p.name),
    ['dual-esm', 'dual-extra', 'require-only', 'main-field', 'scoped', 'pattern-one', 'local-folder'],
  );
});

test('a missing package says which npm install to run, and where', async (t) => {
  const dir = tempDir(t);
  await rejectsWith(
    load(['qlog-plugin-nope'], dir),
    'QLOG_ERR_PLUGIN_NOT_FOUND',
    new RegExp(
      `plugin package "qlog-plugin-nope" not found \\(looked in node_modules in ${dir} and its parents.*\\); install it with: npm install --prefix ${dir} qlog-plugin-nope$`,
    ),
  );
  await rejectsWith(load(['@me/nope/sub'], process.cwd()), 'QLOG_ERR_PLUGIN_NOT_FOUND', /install it with: npm install @me\/nope$/);
  await rejectsWith(
    load(['./nope.mjs'], dir),
    'QLOG_ERR_PLUGIN_LOAD',
    new RegExp(
      `cannot load plugin "\\./nope\\.mjs": no such file \\(looked for ${dir}/nope\\.mjs and .*; relative paths start from the config file's directory, then the working directory\\)`,
    ),
  );
});

test('an installed package whose entry is missing (not built) says so', async (t) => {
  const dir = tempDir(t);
  write(
    join(dir, 'node_modules/qlog-plugin-unbuilt/package.json'),
    JSON.stringify({ name: 'qlog-plugin-unbuilt', exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } }),
  );
  await rejectsWith(
    load(['qlog-plugin-unbuilt'], dir),
    'QLOG_ERR_PLUGIN_LOAD',
    /its entry .*dist\/index\.js does not exist \(a TypeScript package must be built before it is used: run "npm run build" in/,
  );
});

test('brand, kind, name, range, version and schema are checked', async (t) => {
  const dir = tempDir(t);
  const cases: [Fake, ErrorCode, RegExp][] = [
    [{ brand: false }, 'QLOG_ERR_PLUGIN_BRAND', /does not export a qlog plugin \(its default export must be made with definePlugin from "qlog"\)/],
    [{ kind: 'parser' }, 'QLOG_ERR_PLUGIN_KIND', /plugin "fake" has kind "parser"; expected input, filter or output/],
    [{ name: 'Bad Name' }, 'QLOG_ERR_PLUGIN_LOAD', /plugin name "Bad Name" must start with a lowercase letter/],
    [{ qlog: 'soon' }, 'QLOG_ERR_PLUGIN_LOAD', /"qlog" must be a semver range such as "\^0\./],
    [
      { qlog: '^99.0.0' },
      'QLOG_ERR_PLUGIN_VERSION',
      new RegExp(
        `plugin "fake" supports qlog \\^99\\.0\\.0, but this is qlog ${VERSION.replace(/\./g, '\\.')}; upgrade qlog or install a plugin version made for it`,
      ),
    ],
    [{ schema: "{ type: 'object', properties: {} }" }, 'QLOG_ERR_PLUGIN_SCHEMA', /additionalProperties must be false/],
    [
      { schema: "{ type: 'object', additionalProperties: false, properties: { n: { type: 'integer', defualt: 1 } } }" },
      'QLOG_ERR_PLUGIN_SCHEMA',
      /plugin "fake" has an invalid options schema: strict mode: unknown keyword: "defualt"/,
    ],
    [{ schema: 'undefined' }, 'QLOG_ERR_PLUGIN_SCHEMA', /expected \{ type: "object"/],
  ];
  let i = 0;
  for (const [fake, code, message] of cases) {
    const file = write(join(dir, `p${i++}.mjs`), source(fake));
    await rejectsWith(load([file], dir), code, message);
  }
});

test('name clashes: with a built-in of the same kind, between two plugins, the same plugin twice', async (t) => {
  const dir = tempDir(t);
  write(join(dir, 'stdout.mjs'), source({ kind: 'output', name: 'stdout' }));
  write(join(dir, 'a.mjs'), source({ name: 'twin' }));
  write(join(dir, 'b.mjs'), source({ name: 'twin' }));
  write(join(dir, 'filter-named-stdout.mjs'), source({ kind: 'filter', name: 'stdout' }));
  await rejectsWith(
    load(['./stdout.mjs'], dir),
    'QLOG_ERR_PLUGIN_NAME_CLASH',
    /^plugin name "stdout" from "\.\/stdout\.mjs" clashes with the built-in output plugin "stdout"; rename one of them$/,
  );
  await rejectsWith(
    load(['./a.mjs', './b.mjs'], dir),
    'QLOG_ERR_PLUGIN_NAME_CLASH',
    /^plugin name "twin" from "\.\/b\.mjs" clashes with the filter plugin "twin" from "\.\/a\.mjs"; rename one of them$/,
  );
  await rejectsWith(
    load(['./a.mjs', join(dir, 'a.mjs')], dir),
    'QLOG_ERR_PLUGIN_LOAD',
    /it is listed twice in service\.plugins \(also as "\.\/a\.mjs"\); remove one/,
  );
  // Names are per kind, as in config: a filter may be called stdout.
  const { loaded } = await load(['./filter-named-stdout.mjs'], dir);
  assert.equal(loaded[0]!.kind, 'filter');
});

test('import failures: a throwing module, a missing "qlog" peer dependency, a hanging top-level await', async (t) => {
  const dir = tempDir(t);
  write(join(dir, 'throws.mjs'), "throw new Error('boom at import');\n");
  write(join(dir, 'syntax.mjs'), 'export default {;\n');
  write(join(dir, 'needs-qlog.mjs'), "import { definePlugin } from 'qlog';\nexport default definePlugin;\n");
  write(join(dir, 'needs-dep.mjs'), "import x from 'left-pad-not-installed';\nexport default x;\n");
  write(join(dir, 'hangs.mjs'), 'await new Promise(() => {});\n');
  await rejectsWith(load(['./throws.mjs'], dir), 'QLOG_ERR_PLUGIN_LOAD', /cannot load plugin "\.\/throws\.mjs": boom at import/);
  await rejectsWith(load(['./syntax.mjs'], dir), 'QLOG_ERR_PLUGIN_LOAD', /cannot load plugin "\.\/syntax\.mjs": Unexpected token/);
  await rejectsWith(
    load(['./needs-qlog.mjs'], dir),
    'QLOG_ERR_PLUGIN_LOAD',
    /Cannot find package 'qlog'.*\(the plugin cannot resolve its peer dependency "qlog" from .*: install the plugin and qlog in the same project/,
  );
  await rejectsWith(load(['./needs-dep.mjs'], dir), 'QLOG_ERR_PLUGIN_LOAD', /a dependency of the plugin is missing: run "npm install" in the plugin's package/);
  const alive = setInterval(() => undefined, 1000);
  t.after(() => clearInterval(alive));
  await rejectsWith(load(['./hangs.mjs'], dir, { importTimeoutMs: 100 }), 'QLOG_ERR_PLUGIN_LOAD', /importing .*hangs\.mjs did not finish within 100 ms/);
});

test('through the config: errors located at service.plugins[i]; a loaded plugin runs like a built-in', async (t) => {
  const dir = tempDir(t);
  write(join(dir, 'ok.mjs'), source({ name: 'ok-filter' }));
  write(join(dir, 'old.mjs'), source({ name: 'old', qlog: '^0.0.1' }));
  const bad = writeConfig(
    dir,
    'bad.yaml',
    `
service:
  plugins:
    - ./ok.mjs
    - ./old.mjs
    - qlog-plugin-missing
pipeline:
  inputs: [{ name: dummy }]
  filters: [{ name: ok-filter, n: 2 }]
  outputs: [{ name: stdout }]
`,
  );
  await assert.rejects(loadConfig(bad, builtinRegistry()), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(
      e.issues.map((i) => [i.code, i.line, i.path]),
      [
        ['QLOG_ERR_PLUGIN_VERSION', 4, 'service.plugins[1]'],
        ['QLOG_ERR_PLUGIN_NOT_FOUND', 5, 'service.plugins[2]'],
      ],
    );
    return true;
  });
  const good = writeConfig(
    dir,
    'good.yaml',
    `
service: { plugins: [./ok.mjs] }
pipeline:
  inputs: [{ name: dummy }]
  filters: [{ name: ok-filter, n: 2 }]
  outputs: [{ name: stdout }]
`,
  );
  const c = await loadConfig(good, builtinRegistry());
  assert.equal(c.filters[0]!.plugin.name, 'ok-filter');
  assert.deepEqual(c.filters[0]!.options, { n: 2 });
  const wrong = writeConfig(
    dir,
    'wrong.yaml',
    `
service: { plugins: [./ok.mjs] }
pipeline:
  inputs: [{ name: dummy }]
  filters: [{ name: ok-filter, m: 2 }]
`,
  );
  await assert.rejects(loadConfig(wrong, builtinRegistry()), /wrong\.yaml:4:32: pipeline\.filters\[0\]\.m: unknown key "m" \(did you mean "n"\?\)/);
});

test('qlog plugins -c lists a loaded plugin with its origin; --json has its schema; validate exits 2 on a clash', async (t) => {
  const dir = tempDir(t);
  write(join(dir, 'ok.mjs'), source({ name: 'ok-filter' }));
  write(join(dir, 'dup.mjs'), source({ kind: 'input', name: 'dummy' }));
  const cfg = writeConfig(dir, 'c.yaml', `service: { plugins: [./ok.mjs] }\npipeline: { inputs: [{ name: dummy }] }\n`);
  const list = await runCli(['plugins', '-c', cfg], { cwd: dir, owner: t });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /filters:\n(.*\n)* {2}ok-filter\s+a fake plugin \[\.\/ok\.mjs\]/);
  const json = await runCli(['plugins', '--json', '-c', cfg, 'ok-filter'], { cwd: dir, owner: t });
  const [p] = JSON.parse(json.stdout) as { name: string; kind: string; origin: string; schema: { properties: object } }[];
  assert.deepEqual([p!.name, p!.kind, p!.origin, Object.keys(p!.schema.properties)], ['ok-filter', 'filter', './ok.mjs', ['n']]);
  const clash = writeConfig(dir, 'clash.yaml', `service: { plugins: [./dup.mjs] }\npipeline: { inputs: [{ name: dummy }] }\n`);
  const v = await runCli(['validate', clash], { cwd: dir, owner: t });
  assert.equal(v.code, 2);
  assert.match(
    v.stderr,
    /clash\.yaml:1:22: service\.plugins\[0\]: plugin name "dummy" from "\.\/dup\.mjs" clashes with the built-in input plugin "dummy"; rename one of them/,
  );
});

// The agent is a bundle (scripts/bundle-cli.mjs) with its own copy of the SDK's classes; a plugin
// importing `qlog` gets dist/core/index.js, another copy. Its PermanentError must still drop.
test("an ESM plugin's PermanentError (from the SDK entry, not the agent's bundle) drops without a retry", async (t) => {
  const dir = tempDir(t);
  const sdk = pathToFileURL(join(ROOT, 'dist/core/index.js')).href;
  write(
    join(dir, 'perm.mjs'),
    `import { definePlugin, PermanentError, recordLine } from ${JSON.stringify(sdk)};
export default definePlugin({ kind: 'output', name: 'perm_out', description: 'drops poison', qlog: '*',
  schema: { type: 'object', additionalProperties: false, properties: {} },
  setup(ctx) {
    ctx.hooks.flush.tapPromise('perm_out', async (chunk) => {
      if (chunk.records.some((r) => recordLine(r).includes('poison'))) throw new PermanentError('poison record');
      for (const r of chunk.records) process.stdout.write('> ' + recordLine(r) + '\\n');
    });
  },
});
`,
  );
  const cfg = writeConfig(
    dir,
    'perm.yaml',
    `
service: { plugins: [./perm.mjs] }
pipeline:
  inputs:
    - { name: dummy, tag: ok, dummy: 'fine \${seq}', rate: 50, samples: 2 }
    - { name: dummy, tag: bad, dummy: 'poison', samples: 1 }
  outputs: [{ name: perm_out, retry_limit: 5, retry_base: 10ms }]
`,
  );
  const a = startCli(['run', cfg], { cwd: dir, owner: t });
  await a.waitForLine(/dropping 1 records of bad: poison record/, { stream: 'stderr', timeoutMs: 15_000 });
  await a.waitForLine(/^> fine 2$/, { timeoutMs: 15_000 });
  a.signal('SIGTERM');
  assert.equal((await a.exited).code, 0, a.stderr.join('\n'));
  assert.deepEqual(a.stdout, ['> fine 1', '> fine 2']);
  assert.equal(a.stderr.filter((l) => /retrying/.test(l)).length, 0, a.stderr.join('\n'));
});
