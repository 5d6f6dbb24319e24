/** Runs the real CLI (dist/, built by `npm run build`) on a temporary config (test helper, not a test). */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../../dist/core/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  /** Stop the agent (SIGTERM) as soon as this returns true for the stdout so far. */
  until?: (stdout: string) => boolean;
  /** SIGTERM after this long whatever happens (then SIGKILL 5 s later). */
  timeoutMs?: number;
  /** Stop the agent (SIGTERM) when this settles. */
  stopWhen?: Promise<unknown>;
  env?: NodeJS.ProcessEnv;
}

/** `qlog <command> <tmp>/cfg.yaml` with the given YAML; `${DIR}` in it is replaced by the temp dir. */
export async function runCli(command: 'run' | 'validate', yaml: string, o: CliOptions = {}): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const dir = mkdtempSync(join(tmpdir(), 'qlog-cli-'));
  try {
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(cfg, yaml.replaceAll('${DIR}', dir));
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, command, cfg], { cwd: dir, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (child.exitCode !== null || child.signalCode !== null || killTimer) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
    };
    const deadline = setTimeout(stop, o.timeoutMs ?? 15_000);
    void o.stopWhen?.then(stop, stop);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (o.until?.(stdout)) stop();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('close', (c, s) => r([c, s])));
    clearTimeout(deadline);
    clearTimeout(killTimer);
    return { code, signal, stdout, stderr, ms: performance.now() - t0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const outLines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

/** A config that only has to pass validation: one entry of the plugin with an extra, unknown option. */
export function unknownOptionConfig(kind: 'inputs' | 'filters', plugin: string, bad: string): string {
  const input = kind === 'inputs' ? `    - name: ${plugin}\n      ${bad}: 1\n` : '    - name: dummy\n';
  const filters = kind === 'filters' ? `  filters:\n    - name: ${plugin}\n      ${bad}: 1\n` : '';
  return `service:\n  state_dir: \${DIR}/state\npipeline:\n  inputs:\n${input}${filters}  outputs:\n    - name: stdout\n`;
}
