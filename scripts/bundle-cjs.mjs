// The CommonJS entry of the SDK (`require('qlog')`): core/index.ts bundled as CommonJS into
// dist/core/index.cjs, replacing what tsc emits for core/index.cts (which only carries the
// types). Node 20 cannot require() an ES module; a bundle keeps one source for both entries.
// Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: ['core/index.ts'],
  outfile: 'dist/core/index.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  // core/version.ts finds package.json from its own URL: in the bundle, that of index.cjs.
  define: { 'import.meta.url': '__qlogModuleUrl' },
  banner: { js: "'use strict';\nconst __qlogModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
});
