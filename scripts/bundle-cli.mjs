// The CLI as a bundle: core/cli/main.ts and what it imports (our modules and the npm packages they
// use) bundled by esbuild into dist/core/cli/main.js, replacing what tsc emits there, plus chunks
// beside it (bundle-*.js) for what is imported on demand (each command, the http plugin's formats,
// TLS, ...). Run by `npm run build` after tsc.
//
// Why (issue 16): unbundled, `qlog run` loads ~330 modules (dist/ and node_modules/), and resolving,
// reading and compiling them one by one was most of an agent's start-up (~0.3 CPU-s per agent).
// The output is ASCII only: V8 keeps a module's source for lazy compilation, as two bytes a
// character when it holds any non-ASCII one. Whitespace is minified (smaller source held), names
// are not (stack traces and error messages read as in the sources; the .map file beside each
// output maps positions back, for `node --enable-source-maps`).
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
  // Native code, found at run time from its package's directory.
  external: ['msgpackr-extract', 'node-gyp-build', '*.node'],
  // CommonJS packages in an ES module bundle call require() for node's modules.
  banner: { js: "import { createRequire as __qlogCreateRequire } from 'node:module';\nconst require = __qlogCreateRequire(import.meta.url);" },
  charset: 'ascii',
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  plugins: [ownUrl],
  logLevel: 'warning',
});
chmodSync(join(outdir, 'main.js'), 0o755);
