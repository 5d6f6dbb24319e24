/**
 * Waiting for conditions instead of sleeping: every wait has a timeout and says what it waited for.
 *
 *   await waitFor(() => received.length === 100, { what: '100 records' });
 *   await waitFor(() => agent.connections > 0, { timeoutMs: 10_000, intervalMs: 20, what: () => `a connection\n${agent.stderr()}` });
 *   const v = await withTimeout(promise, 2000, 'the flush');
 */

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Poll interval (default 5 ms). */
  intervalMs?: number;
  /** Used in the timeout error: "timed out after 10000 ms waiting for <what>" (a function is called at the timeout, to quote logs). */
  what?: string | (() => string);
}

/**
 * Poll `cond` (sync or async) until it returns a truthy value; resolves with that value.
 * A timeout throws (an Error naming `what`): a wait that may legitimately run out is a sleep or a
 * catch at the caller, saying why.
 */
export async function waitFor<T>(cond: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${said(opts.what) ?? 'a condition'}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 5));
  }
}

/** Resolve/reject with `p`, or reject after `ms` naming `what` (a function is called at the timeout). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: NonNullable<WaitOptions['what']>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${said(what)}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `what` as text: a function is called now (at the timeout, to quote logs). */
function said(what: WaitOptions['what']): string | undefined {
  return typeof what === 'function' ? what() : what;
}

/** A promise with its resolve function outside (to release a held flush, etc.). */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
