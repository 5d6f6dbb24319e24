/**
 * Saying so when a `path` finds nothing: a plain path that does not exist, or a pattern that
 * matches no file. Tail waits for it silently otherwise (a wrong path looks like a quiet file).
 * A warning at start, again every MISSING_WARN_MS while it is missing, and one info line when it
 * appears. Checked at start and at every refresh_interval pass.
 */
import { stat } from 'node:fs/promises';
import picomatch from 'picomatch';
import type { FollowerLog } from './tail-follower.js';
import type { Pattern } from './tail-scan.js';

/** How often a missing path is warned about again. */
export const MISSING_WARN_MS = 60_000;

interface Watched {
  readonly pattern: Pattern;
  /** Does a found path belong to this pattern (globs only)? */
  readonly has: (path: string) => boolean;
  /** When it went missing (0: present), and when it was last warned about. */
  since: number;
  warned: number;
}

export class MissingPaths {
  private readonly watched: Watched[];

  constructor(
    patterns: readonly Pattern[],
    private readonly log: FollowerLog,
    private readonly warnEveryMs = MISSING_WARN_MS,
  ) {
    this.watched = patterns.map((p) => ({ pattern: p, has: p.rest === '' ? () => false : picomatch(p.pattern), since: 0, warned: 0 }));
  }

  /** After a scan that found `found` (existing plain paths are checked by a stat). */
  async check(found: readonly string[], now = Date.now()): Promise<void> {
    for (const w of this.watched) {
      const p = w.pattern.pattern;
      const present = w.pattern.rest === '' ? await isFile(p) : found.some(w.has);
      const what = w.pattern.rest === '' ? 'file' : 'pattern';
      if (present) {
        if (w.since) this.log.info({ path: p, missingMs: now - w.since }, `${what} found: following it`);
        w.since = 0;
        continue;
      }
      if (!w.since) {
        w.since = now;
        w.warned = now;
        this.log.warn(
          { path: p },
          what === 'file'
            ? 'file not found: waiting for it to appear (is `path` right?)'
            : 'no file matches this pattern: waiting for one to appear (is `path` right?)',
        );
      } else if (now - w.warned >= this.warnEveryMs) {
        w.warned = now;
        this.log.warn({ path: p, missingS: Math.round((now - w.since) / 1000) }, `${what} still not found: waiting for it`);
      }
    }
  }
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (st) => st.isFile(),
    () => false,
  );
}
