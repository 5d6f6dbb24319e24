/** Helpers for tail scenario tests that run the real agent (dist/, built by `npm run build`). */
import type { TestContext } from 'node:test';
import { startCli, type RunningCli } from '../../helpers/cli.js';
import { tempDir, writeConfig } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

export { tempDir };

/**
 * Write `dir/cfg.yaml`: one tail input with `tail` (YAML lines, indented by the caller's
 * template below) -> stdout. `format: line` prints each line as read.
 */
export function tailConfig(
  dir: string,
  tail: Record<string, unknown>,
  o: { format?: 'line' | 'json'; outputLimit?: string; inputLimit?: string; logLevel?: string } = {},
): string {
  const opts = Object.entries({ refresh_interval: '100ms', rotate_wait: '300ms', ...tail })
    .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  return writeConfig(
    dir,
    'cfg.yaml',
    `
service:
  log_level: ${o.logLevel ?? 'info'}
  state_dir: ${dir}/state
  grace: 10s
pipeline:
  inputs:
    - name: tail
      tag: app.*
${opts}
${o.inputLimit ? `      buffer_limit: ${o.inputLimit}\n` : ''}  outputs:
    - name: stdout
      format: ${o.format ?? 'line'}
${o.format === 'json' ? '      include_meta: true\n' : ''}${o.outputLimit ? `      buffer_limit: ${o.outputLimit}\n` : ''}`,
  );
}

export function startAgent(t: TestContext, dir: string, cfg: string): RunningCli {
  return startCli(['run', cfg], { cwd: dir, owner: t, killAfterMs: 60_000 });
}

/** Wait until the agent logged that it started (files present at start are open by then). */
export async function started(a: RunningCli): Promise<void> {
  await a.waitForLine(/started with/, { stream: 'stderr', timeoutMs: 15_000 });
}

export async function lines(a: RunningCli, n: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(() => a.stdout.length >= n, { timeoutMs, intervalMs: 20, what: `${n} lines on stdout (have ${a.stdout.length})` });
}

/** SIGTERM and wait for a clean exit (0). */
export async function stop(a: RunningCli): Promise<void> {
  a.signal('SIGTERM');
  const { code } = await a.exited;
  if (code !== 0) throw new Error(`agent exited with ${code}\n${a.stderr.slice(-20).join('\n')}`);
}

export const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
