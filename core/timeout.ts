/** A time limit on a promise, for work that may hang (a plugin's phase, a module's top-level await). */
import { QlogError } from './errors.js';

export interface TimeoutOptions {
  /** The error to reject with (default: QLOG_ERR_PLUGIN_TIMEOUT, "<what> did not finish within <ms> ms"). */
  error?: () => Error;
  /**
   * Keep the process alive while waiting (default false: a plugin that hangs must not keep the
   * agent from exiting; the test harness keeps it so a hang fails with this message).
   */
  keepAlive?: boolean;
}

/** Settle as `p` does, or reject after `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string, opts: TimeoutOptions = {}): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(opts.error?.() ?? new QlogError('QLOG_ERR_PLUGIN_TIMEOUT', { what, ms })), ms);
        if (!opts.keepAlive) timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
