/**
 * The lifecycle of one followed file, as one explicit state and one transition function
 * (diagram: docs/tail-rotation.md#lifecycle-of-a-followed-file).
 *
 * "At its end" means read to EOF at least once since the file took its place (was followed,
 * left its path, or was adopted as a copy). A successor waits for a predecessor that is not at
 * its end yet; a file gone from its path is closed once it is at its end and rotate_wait passed.
 */

export enum Phase {
  /** Open, not placed yet (followed, continued or dropped next). */
  Opened = 'opened',
  /** Followed at its path, not read to its end yet. */
  Following = 'following',
  /** Followed at its path, read to its end at least once. */
  CaughtUp = 'caught-up',
  /** Left its path (renamed away, deleted, or rotated while we were stopped): read to its end through the handle. */
  Gone = 'gone',
  /** Gone, read to its end at least once: closed once rotate_wait passed since it went. */
  GoneAtEnd = 'gone-at-end',
  /** A copytruncate copy read as (the rest of) a generation of another file: never a file of its own while so. */
  Copy = 'copy',
  /** A copy read to its end at least once: closed once rotate_wait passed (or followed on under its own name). */
  CopyAtEnd = 'copy-at-end',
  /** Read to its end after it went and closed for good: its state entry leaves once all its data settled. */
  Finished = 'finished',
  /** Closed without being finished: the agent stops, or it was dropped before it gave anything. */
  Closed = 'closed',
}

export type LifeEvent =
  /** Opened -> followed at its path. */
  | 'follow'
  /** Opened -> continues a stream of a file rotated away while we were stopped. */
  | 'continue'
  /** Opened -> continues a stream as a copytruncate copy. */
  | 'adopt'
  /** A read reached the end of the file. */
  | 'eof'
  /** Its path names another file now, or nothing. */
  | 'leave'
  /** Seen again under a followed path (a rename that `path` matches). */
  | 'return'
  /** A copy read to its end whose own name `path` matches: followed on under that name. */
  | 'keep'
  /** Gone, at its end, rotate_wait passed: closed for good. */
  | 'finish'
  | 'close';

const P = Phase;
const NEXT: { readonly [p in Phase]: { readonly [e in LifeEvent]?: Phase } } = {
  [P.Opened]: { follow: P.Following, continue: P.Gone, adopt: P.Copy, close: P.Closed },
  [P.Following]: { eof: P.CaughtUp, leave: P.Gone, return: P.Following, close: P.Closed },
  [P.CaughtUp]: { eof: P.CaughtUp, leave: P.Gone, return: P.CaughtUp, close: P.Closed },
  [P.Gone]: { eof: P.GoneAtEnd, return: P.Following, close: P.Closed },
  [P.GoneAtEnd]: { eof: P.GoneAtEnd, return: P.CaughtUp, finish: P.Finished, close: P.Closed },
  [P.Copy]: { eof: P.CopyAtEnd, close: P.Closed },
  [P.CopyAtEnd]: { eof: P.CopyAtEnd, keep: P.CaughtUp, finish: P.Finished, close: P.Closed },
  [P.Finished]: {},
  [P.Closed]: {},
};

/** The phase `ev` leads to from `p`; throws on a transition the lifecycle does not have. */
export function nextPhase(p: Phase, ev: LifeEvent): Phase {
  const next = NEXT[p][ev];
  if (next === undefined) throw new Error(`tail: no transition '${ev}' from phase '${p}'`);
  return next;
}

/** Left its path (or is a copy): read to its end, then closed. */
export function isGone(p: Phase): boolean {
  return p === P.Gone || p === P.GoneAtEnd || p === P.Copy || p === P.CopyAtEnd;
}

/** Followed at its path. */
export function isFollowing(p: Phase): boolean {
  return p === P.Following || p === P.CaughtUp;
}

export function isCopy(p: Phase): boolean {
  return p === P.Copy || p === P.CopyAtEnd;
}

/** The handle is open. */
export function isOpen(p: Phase): boolean {
  return p !== P.Finished && p !== P.Closed;
}

/** Gone and read to its end at least once: closable once rotate_wait passed. */
export function isGoneAtEnd(p: Phase): boolean {
  return p === P.GoneAtEnd || p === P.CopyAtEnd;
}

/**
 * Must the file that replaced this one wait for it? Until it was read to its end once; and
 * while it is gone, also while its last line is unterminated (`partial`: emitted at its close).
 * A predecessor followed again under another name (CaughtUp) waits for its newline there.
 */
export function holdsSuccessor(p: Phase, partial: boolean): boolean {
  switch (p) {
    case P.Opened:
    case P.Following:
    case P.Gone:
    case P.Copy:
      return true;
    case P.GoneAtEnd:
    case P.CopyAtEnd:
      return partial;
    default:
      return false;
  }
}
