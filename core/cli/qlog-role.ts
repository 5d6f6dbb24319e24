/** What `qlog monitor` and `qlog receive-file` share once their arguments are parsed: load, --print-config, run. */
import { resolve } from 'node:path';
import { runAgent } from '../agent.js';
import { loadQlogConfig } from '../qlog-compat/load.js';
import type { QlogConfig } from '../qlog-compat/schema.js';

type RoleOptions = Parameters<typeof loadQlogConfig>[1];

/** Loads the qlog config as `opts.role`; prints the native YAML (--print-config) or runs it until a signal. */
export async function runQlogRole(
  file: string,
  opts: RoleOptions,
  printConfig: boolean | undefined,
  banner: (qlog: QlogConfig, logFile: string) => string,
): Promise<number> {
  const load = async () => (await loadQlogConfig(resolve(file), opts)).config;
  const first = await loadQlogConfig(resolve(file), opts);
  if (printConfig) {
    process.stdout.write(first.yaml);
    return 0;
  }
  // Printed once it is true: a start that fails (port in use ...) must not have said "listening".
  return runAgent(first.config, load, { onStarted: () => process.stderr.write(`${banner(first.qlog, first.config.service.log_file)}\n`) });
}
