#!/usr/bin/env node
// The deployable for an enclave image (`npm run package`): release/qlog-<version>-<platform>-<arch>.tar.gz
// holding one folder, qlog/, that runs with a system `node` (>= 20) and nothing else:
//   the npm package's files (package.json "files", via `npm pack`: dist/, native sources, conf/, docs/),
//   node_modules/ with the production dependencies only (`npm ci --omit=dev` from package-lock.json,
//   offline when the npm cache has them), the vsock addon built here (native/build/Release), and
//   bin/qlog, a sh launcher that runs `node` with the CLI's environment and V8 flags (those of
//   main.js's shebang).
// The addon and msgpackr's prebuilt extension are native code for this platform: build on the
// platform you deploy to (linux-x64 for the enclave images we know).
// Usage: node scripts/package.mjs [--out DIR]   (needs a built tree: `npm run package` builds first)
// Prints the archive's path on stdout, its sizes on stderr.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/core/cli/main.js');
const ADDON = 'native/build/Release/qlog_vsock.node';

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function sh(cmd, args, cwd) {
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`, stdout: r.stdout ?? '' };
}

function must(cmd, args, cwd) {
  const r = sh(cmd, args, cwd);
  if (!r.ok) fail(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${r.out}`);
  return r.stdout;
}

/** The environment and node options of main.js's shebang (`#!/usr/bin/env -S NAME=value node --opt ...`). */
function shebang() {
  const first = readFileSync(CLI, 'utf8').split('\n', 1)[0];
  const m = /^#!\S*env -S((?:\s+[A-Z_]+=\S+)*)\s+node((?:\s+--?[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  if (!m) fail(`unexpected first line in ${CLI}: ${first}`);
  const words = (s) => s.trim().split(/\s+/).filter(Boolean);
  return { env: words(m[1]), flags: words(m[2]) };
}

/**
 * bin/qlog: POSIX sh builtins only (an image may have no coreutils). Found through a symlink
 * (/usr/local/bin/qlog -> /opt/qlog/bin/qlog), it asks node for its real path.
 */
function launcher({ env, flags }) {
  return `#!/bin/sh
# qlog launcher: runs the system node (>= 20) on this folder's CLI with the agent's environment
# (${env.join(' ')}, unless already set) and V8 flags.
${env.map((a) => `: "\${${a.replace('=', ':=')}}"; export ${a.split('=')[0]}`).join('\n')}
self=$0
if [ -L "$self" ]; then
  self=$(node -e 'process.stdout.write(require("fs").realpathSync(process.argv[1]))' "$self") || exit 1
fi
case $self in */*) bin=\${self%/*} ;; *) bin=. ;; esac
root=$(cd "$bin/.." && pwd) || exit 1
exec node ${flags.join(' ')} "$root/dist/core/cli/main.js" "$@"
`;
}

/**
 * Source maps and type declarations: never loaded by the agent (no --enable-source-maps), and an
 * enclave image's files live in its memory. Plugin authors get the types from the npm package.
 */
function prune(dir) {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (lstatSync(p).isDirectory()) n += prune(p);
    else if (/\.(map|d\.[cm]?ts)$/.test(name)) {
      rmSync(p);
      n++;
    }
  }
  return n;
}

/** Bytes of the files under dir, and what they take on disk. */
function sizeOf(dir) {
  let bytes = 0;
  let disk = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) {
      const sub = sizeOf(p);
      bytes += sub.bytes;
      disk += sub.disk + st.blocks * 512;
    } else {
      bytes += st.size;
      disk += st.blocks * 512;
    }
  }
  return { bytes, disk };
}

const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

const outIdx = process.argv.indexOf('--out');
const out = resolve(outIdx > 0 && process.argv[outIdx + 1] ? process.argv[outIdx + 1] : join(ROOT, 'release'));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const target = `${process.platform}-${process.arch}`;

if (!existsSync(CLI) || !existsSync(join(ROOT, 'dist/core/index.cjs')))
  fail('dist/ is not built: run `npm run build` (or `npm run package`, which builds first)');
if (!existsSync(join(ROOT, ADDON))) must(process.execPath, [join(ROOT, 'native/build.mjs')], ROOT);
if (!existsSync(join(ROOT, ADDON)))
  fail(`the vsock addon (${ADDON}) could not be built: see native/build/qlog-build.log; an enclave image needs it for vsock://`);

const stage = mkdtempSync(join(tmpdir(), 'qlog-package-'));
try {
  // What npm would publish, so the archive and `npm install -g` agree on the files.
  const packed = must('npm', ['pack', '--ignore-scripts', '--pack-destination', stage, '--loglevel=error'], ROOT).trim().split('\n').pop();
  must('tar', ['-xzf', join(stage, packed), '-C', stage], stage);
  const app = join(stage, 'qlog');
  renameSync(join(stage, 'package'), app);

  // Production dependencies at the locked versions. --ignore-scripts: qlog's own install script would
  // rebuild the addon (shipped below instead); msgpackr-extract's only picks its prebuilt binary.
  copyFileSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
  // --prefix: under `npm run package` the environment names the checkout as npm's local prefix.
  const ci = ['ci', '--prefix', app, '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
  const offline = sh('npm', [...ci, '--offline'], app);
  if (!offline.ok) {
    if (!/ENOTCACHED|offline/i.test(offline.out)) fail(`npm ci --omit=dev failed:\n${offline.out}`);
    must('npm', [...ci, '--prefer-offline'], app);
  }

  const pruned = prune(app);
  mkdirSync(join(app, 'native/build/Release'), { recursive: true });
  copyFileSync(join(ROOT, ADDON), join(app, ADDON));
  mkdirSync(join(app, 'bin'));
  writeFileSync(join(app, 'bin/qlog'), launcher(shebang()));
  chmodSync(join(app, 'bin/qlog'), 0o755);

  mkdirSync(out, { recursive: true });
  const archive = join(out, `qlog-${pkg.version}-${target}.tar.gz`);
  must('tar', ['-czf', archive, '--owner=0', '--group=0', '--numeric-owner', '-C', stage, 'qlog'], stage);

  const total = sizeOf(app);
  const part = (p) => (existsSync(join(app, p)) ? (statSync(join(app, p)).isDirectory() ? sizeOf(join(app, p)).bytes : statSync(join(app, p)).size) : 0);
  console.error(
    `package: ${archive}: ${mib(statSync(archive).size)} compressed; unpacked ${mib(total.bytes)} of files (${mib(total.disk)} on disk): ` +
      `dist ${mib(part('dist'))}, node_modules ${mib(part('node_modules'))}, addon ${(part(ADDON) / 1024).toFixed(0)} KiB, docs+conf ${mib(part('docs') + part('conf'))}; ${pruned} source maps and type declarations left out`,
  );
  console.log(archive);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
