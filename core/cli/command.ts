/** What a CLI command module exports (default), and the usage error every command throws. */
export { UsageError } from '../errors.js';

export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Every command, loaded on demand. Add a line here for a new command. */
export const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
  run: () => import('./run.js'),
  validate: () => import('./validate.js'),
  plugins: () => import('./plugins.js'),
  monitor: () => import('./monitor.js'),
  'receive-file': () => import('./receive-file.js'),
  migrate: () => import('./migrate.js'),
  demo: () => import('./demo.js'),
  'new-plugin': () => import('./new-plugin.js'),
  open: () => import('./open.js'),
  keygen: () => import('./keygen.js'),
};
