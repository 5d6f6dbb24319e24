/** Small argument parsing on top of node:util parseArgs with qlog's usage errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.js';
import { didYouMean } from '../errors.js';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usage: string,
): { values: { [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : T[K] extends { multiple: true } ? string[] : string }; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as never;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const option = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-[^']*)'/.exec(err.message)?.[1] : undefined;
    if (option) {
      const names = Object.entries(options).flatMap(([long, o]) => [`--${long}`, ...(o.short ? [`-${o.short}`] : [])]);
      const allowed = names.length ? names.join(', ') : 'no options';
      throw new UsageError(
        'QLOG_ERR_USAGE/option',
        {
          option,
          hint: didYouMean(
            option,
            names.filter((n) => n.startsWith('--')),
          ),
          allowed,
        },
        usage,
      );
    }
    throw new UsageError('QLOG_ERR_USAGE', { reason: err.message }, usage);
  }
}
