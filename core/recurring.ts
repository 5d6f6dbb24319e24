/**
 * A problem that keeps happening, as an operator can read it: the first time is logged in full,
 * then at most one summary per period (how many since the last line, and the latest), and one
 * line when it is over. Logging each time floods the log (a dial at a 500 ms backoff, a unit a
 * wrong key cannot open at thousands per second). The owner writes the lines; this counts and
 * says when.
 */
export class Recurring {
  /** Times since the first (since the last reset). */
  count = 0;
  /** Times since the last line (the first's, or a summary's). */
  unsummed = 0;
  /** When the first happened, and when a line was last due. */
  since = 0;
  private lastLine = 0;
  /** The latest time's text (for the summary). */
  last = '';

  constructor(
    readonly everyMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** It happened again; true the first time: log that one in full. */
  add(text = ''): boolean {
    this.last = text;
    if (this.count++ === 0) {
      this.since = this.lastLine = this.clock();
      return true;
    }
    this.unsummed++;
    return false;
  }

  /**
   * Whether a summary is due (a period since the last line, and it happened since): if so, the
   * count since the last line and the seconds it covers are taken (returned), and a period starts.
   */
  due(): { count: number; seconds: number } | undefined {
    const now = this.clock();
    if (this.unsummed === 0 || now - this.lastLine < this.everyMs) return undefined;
    const r = { count: this.unsummed, seconds: Math.round((now - this.lastLine) / 1000) };
    this.lastLine = now;
    this.unsummed = 0;
    return r;
  }

  /** Seconds since the first time. */
  seconds(): number {
    return Math.round((this.clock() - this.since) / 1000);
  }

  /** It is over: how many times and for how long, and the count starts again (undefined: never happened). */
  reset(): { count: number; unsummed: number; seconds: number } | undefined {
    if (this.count === 0) return undefined;
    const r = { count: this.count, unsummed: this.unsummed, seconds: this.seconds() };
    this.count = this.unsummed = 0;
    return r;
  }
}
