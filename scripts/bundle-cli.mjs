// The CLI as a bundle: core/cli/main.ts and what it imports (our modules and the npm packages they
// use) bundled by esbuild into dist/core/cli/main.js, replacing what tsc emits there, plus chunks
// beside it (bundle-*.js) for what is imported on demand (each command, the http plugin's formats,
// TLS, ...). Run by `npm run build` after tsc.
//
// Why (issue 16): unbundled, `qlog run` loads ~330 modules (dist/ and node_modules/), and resolving,
// reading and compiling them one by one was most of an agent's start-up (~0.3 CPU-s per agent).
// What the agent holds, measured (heap used by an idle enclave agent, tail + resource): V8 keeps a
// module's source for lazy compilation, as two bytes a character when it holds any non-ASCII one:
// ASCII output saves ~0.5 MiB; minified whitespace ~0.8 MiB. Identifiers are not minified (stack
// traces and error messages read as in the sources; the .map file beside each output maps
// positions back, for `node --enable-source-maps`); only where two bundled modules use the same
// top-level name does one get a number appended (jsonLine2). esbuild's keepNames would undo that,
// for ~0.45 MiB of heap: left off.
//
// The rest of dist/ (what tsc emits) stays: the SDK entries (`qlog`, `qlog/testing`) that
// third-party plugins import, and the files found through import.meta.url. A module of ours that
// reads import.meta.url gets the URL of its own file under dist/ (as if unbundled), so paths
// computed from it (precompiled validators, package.json, native/, conf/, READMEs) resolve alike.
import { chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist/core/cli');
const CHUNK_PREFIX = 'bundle-';

/** `import.meta.url` in our sources -> the URL of the module's own file under dist/. */
const ownUrl = {
  name: 'qlog-own-import-meta-url',
  setup(b) {
    const ours = new RegExp(`^${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(core|plugins)[\\\\/].*\\.ts$`);
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!ours.test(args.path)) return undefined;
      const src = readFileSync(args.path, 'utf8');
      if (!src.includes('import.meta.url')) return undefined;
      const dist = join(root, 'dist', relative(root, args.path)).replace(/\.ts$/, '.js');
      let rel = relative(outdir, dist).split(sep).join('/');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      // Every output file (entry and chunks) lives in outdir, so the path is the same from any of them.
      return {
        contents: src.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`),
        loader: 'ts',
        resolveDir: dirname(args.path),
      };
    });
  },
};

// Outputs of an earlier build (chunk names carry a content hash).
for (const f of readdirSync(outdir)) if (f.startsWith(CHUNK_PREFIX) || f === 'main.js' || f === 'main.js.map') rmSync(join(outdir, f));

/** Packages replaced by a file of scripts/bundle/ (each says why). */
const REPLACED = { 'msgpackr-extract': 'msgpackr-extract.cjs' };
const replaced = {
  name: 'qlog-replaced-packages',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${Object.keys(REPLACED).join('|')})$`) }, (args) => ({ path: join(root, 'scripts/bundle', REPLACED[args.path]) }));
  },
};

/**
 * fdir requires picomatch at run time (its optional glob support) through its own createRequire,
 * which loaded picomatch's 6 files a second time beside the bundled copy: give it the bundled one.
 */
const FDIR_REQUIRE = '__require.resolve("picomatch");\n\tpm = __require("picomatch");';
const fdirPicomatch = {
  name: 'qlog-fdir-picomatch',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]fdir[\\/]dist[\\/]index\.mjs$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      // Fails the build when an fdir upgrade changes the code (check the new one, then adapt).
      if (!src.includes(FDIR_REQUIRE)) throw new Error(`${args.path}: its picomatch require() changed: adapt scripts/bundle-cli.mjs`);
      return {
        contents: `import __qlogPicomatch from 'picomatch';\n${src.replace(FDIR_REQUIRE, 'pm = __qlogPicomatch;')}`,
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
};

await build({
  absWorkingDir: root,
  entryPoints: { main: 'core/cli/main.ts' },
  outdir,
  chunkNames: `${CHUNK_PREFIX}[name]-[hash]`,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Native addons are loaded at run time (core/native-addon.ts, scripts/bundle/msgpackr-extract.cjs).
  external: ['*.node'],
  // CommonJS packages in an ES module bundle call require() for node's modules.
  banner: { js: "import { createRequire as __qlogCreateRequire } from 'node:module';\nconst require = __qlogCreateRequire(import.meta.url);" },
  charset: 'ascii',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  plugins: [ownUrl, replaced, fdirPicomatch],
  logLevel: 'warning',
});
chmodSync(join(outdir, 'main.js'), 0o755);
