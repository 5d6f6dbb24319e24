#!/usr/bin/env node
// Builds the AF_VSOCK addon (native/build/Release/qlog_vsock.node) with node-gyp.
// This is the package's "install" script, so it never fails: when the addon cannot be
// built it prints one warning line and exits 0 (everything but vsock:// keeps working).
// Usage: node native/build.mjs [--verbose]   (QLOG_SKIP_NATIVE_BUILD=1 skips the build)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = dirname(fileURLToPath(import.meta.url));
const verbose = process.argv.includes('--verbose');

function giveUp(why) {
  console.warn(`qlog: warning: vsock addon not built (${why}); vsock:// addresses will be unavailable, everything else works`);
  process.exit(0);
}

// node-gyp as a [command, ...args] list. Never `npm exec node-gyp` (it could download).
function findNodeGyp() {
  const candidates = [];
  // npm sets this for lifecycle scripts: the node-gyp bundled with npm.
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  // npm's own install dir (npm_execpath = .../npm/bin/npm-cli.js), else next to node.
  if (process.env.npm_execpath) {
    candidates.push(join(dirname(dirname(process.env.npm_execpath)), 'node_modules/node-gyp/bin/node-gyp.js'));
  }
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not a project dependency */
  }
  for (const c of candidates) if (c && existsSync(c)) return [process.execPath, c];
  // Last resort: a node-gyp on PATH (inside npm scripts npm puts its shim there).
  const probe = spawnSync('node-gyp', ['--version'], { stdio: 'ignore' });
  return probe.status === 0 ? ['node-gyp'] : null;
}

// Local Node headers, so node-gyp never tries to download them.
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

if (process.env.QLOG_SKIP_NATIVE_BUILD) giveUp('QLOG_SKIP_NATIVE_BUILD is set');
if (process.platform !== 'linux') giveUp(`AF_VSOCK needs Linux, this is ${process.platform}`);
const gyp = findNodeGyp();
if (!gyp) giveUp('node-gyp not found; it is bundled with npm, run the build through npm');

const [cmd, ...args] = gyp;
const r = spawnSync(cmd, [...args, 'rebuild', ...nodedirArgs()], {
  cwd: nativeDir,
  encoding: 'utf8',
  stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  timeout: 10 * 60 * 1000,
  maxBuffer: 64 * 1024 * 1024,
});
const built = join(nativeDir, 'build/Release/qlog_vsock.node');
if (r.status === 0 && existsSync(built)) {
  console.log(`qlog: vsock addon built: ${built}`);
  process.exit(0);
}
let where = '';
if (!verbose) {
  try {
    mkdirSync(join(nativeDir, 'build'), { recursive: true });
    const log = join(nativeDir, 'build/qlog-build.log');
    writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}\n`);
    where = `; details in ${log}`;
  } catch {
    /* read-only install dir: nothing more to say */
  }
}
const cause = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `node-gyp exited with ${r.status}`;
giveUp(`${cause}; needs g++, make and python3${where}`);
