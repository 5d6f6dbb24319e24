/**
 * Assembles the records of one source (a tailed file, a tag and peer of the multiline filter)
 * into multiline records. Memory is bounded: a record is cut at max_lines or max_bytes (flagged
 * meta.truncated; the rest of the trace goes on as a new record, also flagged, so nothing is
 * dropped). Every rule decision is timed: a record whose rules took longer than the budget is
 * emitted as it is, and the parser is bypassed for a while (records pass alone) so one bad
 * pattern cannot stall the agent.
 */
import type { LogRecord } from '../record.js';
import { type Machine, StepKind } from './ml-machine.js';

export interface MultilineLimits {
  readonly maxLines: number;
  readonly maxBytes: number;
  /** Most time the rules may take on one record (ms). */
  readonly budgetMs: number;
  /** How long the parser is bypassed after a record went over the budget (ms). */
  readonly bypassMs?: number;
}

/** Counters the owner reads (and adds to its instance counters). */
export interface MultilineCounts {
  /** Records made of more than one record. */
  joined: number;
  /** Records cut at max_lines / max_bytes. */
  truncated: number;
  /** Records whose rules went over the time budget. */
  overBudget: number;
  /** Records passed alone while the parser was bypassed. */
  bypassed: number;
}

export function newCounts(): MultilineCounts {
  return { joined: 0, truncated: 0, overBudget: 0, bypassed: 0 };
}

/** An open (held) record. */
export interface Group {
  state: string;
  readonly first: LogRecord;
  last: LogRecord;
  parts: string[];
  lines: number;
  bytes: number;
  /** Where the first record starts in its source (tail: a byte offset); NaN when unknown. */
  readonly start: number;
  truncated: boolean;
  spentMs: number;
  /** When the last record joined (ms, for flush_timeout). */
  at: number;
  /** Rises with each record joining a group of the stream: a flush emits in this order. */
  order: number;
  /** The owner's: released when the record this group becomes is delivered (the filter's holds). */
  readonly holds: ((delivered: boolean) => void)[];
}

/** Receives each record leaving: a complete multiline record (with its group) or one passing alone. */
export type Emit = (r: LogRecord, g: Group | undefined) => void;

const now = () => performance.now();

export class MultilineStream {
  private readonly groups = new Map<string, Group>();
  private bypassUntil = 0;
  private joins = 0;

  constructor(
    readonly machine: Machine,
    private readonly limits: MultilineLimits,
    private readonly counts: MultilineCounts,
  ) {}

  /** Records are held. */
  get holding(): boolean {
    return this.groups.size > 0;
  }

  /** The parser is bypassed after a record went over the budget (the stream must be kept until then). */
  get bypassing(): boolean {
    return now() < this.bypassUntil;
  }

  /** Where the earliest held record starts (NaN when nothing is held or starts are unknown). */
  heldStart(): number {
    let s = Number.NaN;
    for (const g of this.groups.values()) if (!(g.start >= s)) s = g.start;
    return s;
  }

  /**
   * Take one record, starting at `start` in its source; records complete now go to `emit`, in
   * order. Returns the group `r` joined when that group is still held (else undefined).
   */
  push(r: LogRecord, start: number, emit: Emit): Group | undefined {
    const m = this.machine;
    m.prepare(r);
    const text = m.content(r);
    if (text === undefined) return void emit(r, undefined);
    const t0 = now();
    if (t0 < this.bypassUntil) {
      this.counts.bypassed++;
      this.flushAll(emit);
      return void emit(r, undefined);
    }
    const key = m.groupKey(r);
    let g = this.groups.get(key);
    const state = g ? g.state : '';
    const step = m.step(state, text, r);
    let spent = now() - t0;
    if ((step.kind === StepKind.Continue && g ? g.spentMs : 0) + spent > this.limits.budgetMs) spent = Math.min(spent, this.retime(state, text, r));
    if (step.kind === StepKind.Continue && g) {
      const cut = g.lines >= this.limits.maxLines || g.bytes + text.length > this.limits.maxBytes;
      if (cut) {
        // Cut here: what was assembled leaves, flagged; the trace goes on as a new record in the same state.
        this.counts.truncated++;
        g.truncated = true;
        this.emitGroup(key, g, emit);
        g = this.open(key, r, text, start, step.to, true);
      } else {
        g.parts.push(text);
        g.lines++;
        g.bytes += text.length;
        g.last = r;
        g.state = step.to;
        g.order = ++this.joins;
      }
      g.at = t0;
    } else {
      if (g) this.emitGroup(key, g, emit);
      g = undefined;
      if (step.kind === StepKind.Single) {
        if (spent > this.limits.budgetMs) this.overBudget(emit);
        return void emit(r, undefined);
      }
      g = this.open(key, r, text, start, step.to, false);
    }
    g.spentMs += spent;
    if (g.spentMs > this.limits.budgetMs) {
      this.emitGroup(key, g, emit);
      this.overBudget(emit);
      return undefined;
    }
    if (!step.ends) return g;
    this.emitGroup(key, g, emit);
    return undefined;
  }

  /**
   * Emit every held record whose last record joined before `olderThan` (all without it), in the
   * order their last records came (so their seqs rise: groups of one stream, cri's stdout and
   * stderr, are held side by side).
   */
  flush(emit: Emit, olderThan = Number.POSITIVE_INFINITY): void {
    const due: [string, Group][] = [];
    for (const e of this.groups) if (e[1].at < olderThan) due.push(e);
    if (due.length > 1) due.sort((a, b) => a[1].order - b[1].order);
    for (const [key, g] of due) this.emitGroup(key, g, emit);
  }

  /** The oldest activity among held records (ms), or undefined. */
  oldest(): number | undefined {
    let t: number | undefined;
    for (const g of this.groups.values()) if (t === undefined || g.at < t) t = g.at;
    return t;
  }

  /**
   * The time of one rule decision, measured again. Wall-clock time counts whatever else ran
   * meanwhile: the thread descheduled on a busy machine, a GC pause. Before a record is called
   * over budget, the decision that put it over is taken again (the rules are pure): a slow pattern
   * is as slow the second time, a stall does not come back (the lesser time counts).
   */
  private retime(state: string, text: string, r: LogRecord): number {
    const t0 = now();
    this.machine.step(state, text, r);
    return now() - t0;
  }

  private flushAll(emit: Emit): void {
    if (this.groups.size) this.flush(emit);
  }

  private overBudget(emit: Emit): void {
    this.counts.overBudget++;
    this.bypassUntil = now() + (this.limits.bypassMs ?? 60_000);
    this.flushAll(emit);
  }

  private open(key: string, r: LogRecord, text: string, start: number, state: string, truncated: boolean): Group {
    const g: Group = {
      state,
      first: r,
      last: r,
      parts: [text],
      lines: 1,
      bytes: text.length,
      start,
      truncated,
      spentMs: 0,
      at: now(),
      order: ++this.joins,
      holds: [],
    };
    this.groups.set(key, g);
    return g;
  }

  private emitGroup(key: string, g: Group, emit: Emit): void {
    this.groups.delete(key);
    const m = this.machine;
    const r = m.onLast ? g.last : g.first;
    if (g.lines > 1) {
      this.counts.joined++;
      m.setContent(r, g.parts.join(m.joiner));
      if (g.last.meta.seq !== undefined) r.meta.seq = g.last.meta.seq;
    }
    if (g.truncated) r.meta.truncated = true;
    emit(r, g);
  }
}
