/** A time limit on a promise, for work that may hang (a plugin's phase, a module's top-level await). */

export interface TimeoutOptions {
  /** What usually makes it hang, added to the message in parentheses. */
  hint?: string;
  /**
   * Keep the process alive while waiting (default false: a plugin that hangs must not keep the
   * agent from exiting; the test harness keeps it so a hang fails with this message).
   */
  keepAlive?: boolean;
}

/** Settle as `p` does, or reject with "<what> did not finish within <ms> ms" after `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string, opts: TimeoutOptions = {}): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms${opts.hint ? ` (${opts.hint})` : ''}`)), ms);
        if (!opts.keepAlive) timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
