// Shared by the SDK tests: paths, a built dist/, temp dirs, child processes, linked node_modules.
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist/core/cli/main.js');
export const EXAMPLE = join(ROOT, 'docs/examples/qlog-plugin-secret-mask');
export const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** `npm test` builds first; a test run on its own builds dist/ if a file it needs is missing. */
export function ensureBuilt(): void {
  const need = ['dist/core/cli/main.js', 'dist/core/index.cjs', 'dist/core/testing/index.js', 'dist/core/testing/index.cjs', 'dist/core/cli/new-plugin.js'];
  if (need.every((f) => existsSync(join(ROOT, f)))) return;
  const r = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
}

const temps: string[] = [];
/** A fresh temp dir, removed by cleanTemps(). */
export function tempDir(prefix = 'qlog-sdk-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
export function cleanTemps(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Copy a package folder without its node_modules/dist. */
export function copyPackage(from: string, to: string): void {
  cpSync(from, to, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)([\\/]|$)/.test(src.slice(from.length)) && !src.endsWith('.tgz') });
}

/**
 * node_modules for a plugin package under test without npm: qlog -> this repo (its exports
 * point into dist/), and qlog's own dev tools (typescript, tsx, @types/node).
 */
export function linkHostModules(dir: string): void {
  const nm = join(dir, 'node_modules');
  mkdirSync(join(nm, '@types'), { recursive: true });
  const link = (name: string, target: string) => {
    mkdirSync(dirname(join(nm, name)), { recursive: true });
    symlinkSync(target, join(nm, name), 'dir');
  };
  link('qlog', ROOT);
  for (const m of ['typescript', 'tsx', '@types/node']) link(m, join(ROOT, 'node_modules', m));
}

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** process.env without NODE_TEST_CONTEXT (a child `node --test` would report to us, not print TAP). */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** Run a command to completion (bounded by `timeout` ms). */
export function run(cmd: string, args: string[], opts: SpawnOptions & { timeout?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: childEnv(), ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin!.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** npm without its notices; `env` adds variables (e.g. QLOG_SKIP_NATIVE_BUILD). Throws on failure. */
export async function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const npmEnv = childEnv({ npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...env });
  const r = await run('npm', [...args, '--loglevel=error'], { cwd, env: npmEnv, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} (in ${cwd}) failed with ${r.status}:\n${r.stdout}${r.stderr}`);
  return r;
}

/** Install local tarballs without the registry; if the npm cache lacks something, allow the network. */
export async function installLocal(cwd: string, specs: string[], extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<void> {
  try {
    await npm(['install', '--offline', '--no-audit', '--no-fund', ...extra, ...specs], cwd, env);
  } catch (e) {
    if (!/ENOTCACHED|offline/i.test((e as Error).message)) throw e;
    await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...extra, ...specs], cwd, env);
  }
}

/** `npm pack` of this project into dir (dist/ must be built: the prepare script is skipped); the tarball's path. */
export async function packQlog(dir: string): Promise<string> {
  const packed = await npm(['pack', '--ignore-scripts', '--pack-destination', dir], ROOT);
  return join(dir, packed.stdout.trim().split('\n').pop()!);
}

/** `node <args>` with this node. */
export function node(args: string[], opts: SpawnOptions & { timeout?: number; input?: string } = {}): Promise<RunResult> {
  return run(process.execPath, args, opts);
}

/**
 * Start `qlog run <config>` (bin = path of the qlog CLI, run by this node; with `exec`, run as a
 * program: its shebang or launcher picks node), wait until `ready(stdout)` holds (bounded), then
 * stop it with SIGTERM. Resolves with everything it printed and its exit status.
 */
export function runAgentUntil(
  bin: string,
  config: string,
  ready: (stdout: string, stderr: string) => boolean,
  opts: { cwd: string; timeout?: number; env?: NodeJS.ProcessEnv; exec?: boolean },
): Promise<RunResult & { ready: boolean }> {
  return new Promise((resolve, reject) => {
    const [cmd, args] = opts.exec ? [bin, ['run', config]] : [process.execPath, [bin, 'run', config]];
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let isReady = false;
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    };
    const check = () => {
      if (!isReady && ready(stdout, stderr)) {
        isReady = true;
        stop();
      }
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      check();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      check();
    });
    const timer = setTimeout(stop, opts.timeout ?? 15_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ready: isReady });
    });
  });
}
