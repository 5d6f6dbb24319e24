#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=4 --no-opt --no-sparkplug
/**
 * qlog command line. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.
 * Each command lives in its own module, loaded on demand.
 */
import { ConfigError, didYouMean, QlogError } from '../errors.js';
import { VERSION } from '../version.js';

import { COMMANDS, UsageError } from './command.js';

async function help(): Promise<string> {
  const all = COMMANDS;
  const lines = await Promise.all(Object.entries(all).map(async ([n, load]) => `  ${n.padEnd(14)}${(await load()).default.summary}`));
  return `qlog ${VERSION} — log and resource-usage agent for enclaves (tail, sample, ship over vsock, rotate files)

Usage: qlog <command> [options]

Commands:
${lines.join('\n')}
  help          Print this message or the help of the given command

Options:
  -c <config>   Same as: qlog run <config>
  -h, --help    Print help
  -V, --version Print version

Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error.
`;
}

/**
 * `qlog plugins | head`: the reader went away. Stop quietly like other Unix tools instead of
 * crashing on an unhandled EPIPE. Not for `run`, whose stdout belongs to the stdout output.
 */
function quietOnEpipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '-h' || first === '--help') {
      process.stdout.write(await help());
      return first === undefined ? 2 : 0;
    }
    if (first === '-V' || first === '--version') {
      process.stdout.write(`qlog ${VERSION}\n`);
      return 0;
    }
    if (first === '-c' || first === '--config') return await (await COMMANDS.run!()).default.run(argv);
    if (first === 'help') {
      const load = rest[0] ? COMMANDS[rest[0]] : undefined;
      process.stdout.write(load ? (await load()).default.usage : await help());
      return 0;
    }
    const load = COMMANDS[first];
    if (!load) throw new UsageError('QLOG_ERR_USAGE/command', { command: first, hint: didYouMean(first, [...Object.keys(COMMANDS), 'help']) });
    const cmd = (await load()).default;
    if (rest.includes('-h') || rest.includes('--help')) {
      process.stdout.write(cmd.usage);
      return 0;
    }
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n${e.issues.length} error${e.issues.length > 1 ? 's' : ''} in the configuration\n`);
      return 2;
    }
    if (e instanceof QlogError && e.code === 'QLOG_ERR_USAGE') {
      process.stderr.write(`qlog: ${e.message}\n`);
      return 2;
    }
    if (e instanceof QlogError) {
      process.stderr.write(`qlog: ${e.code}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`qlog: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const self = fileURLToPath(import.meta.url);
if (process.argv[1] && realpathSync(process.argv[1]) === self) {
  if (!['run', '-c', '--config'].includes(process.argv[2] ?? '')) quietOnEpipe();
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // Let stdout drain naturally; a handle left open by a misbehaving plugin cannot keep us alive.
  setTimeout(() => process.exit(code), 2000).unref();
}
