/**
 * How a multiline parser reads records: which text of a record it looks at (key_content), and
 * for each record whether it starts a new record, continues the open one (and whether that
 * completes it), or stands alone. Three kinds, as Fluent Bit's built-ins: regex rules (java,
 * python, go, user rules), docker (json-file `log` pieces without a trailing newline) and cri
 * (`P` partial lines up to the `F` one, per stream).
 */
import type { Parser } from '../parsers/parser.js';
import type { LogRecord } from '../record.js';
import type { RuleMachine } from './ml-rules.js';

export enum StepKind {
  /** Not part of a multiline record: the open one (if any) is complete, this record passes alone. */
  Single = 0,
  /** Starts a record (the open one, if any, is complete first). */
  Start = 1,
  /** Continues the open record. */
  Continue = 2,
}

export interface Step {
  readonly kind: StepKind;
  readonly to: string;
  /** The record is complete with this one. */
  readonly ends: boolean;
}

const SINGLE: Step = { kind: StepKind.Single, to: '', ends: true };

export interface Machine {
  readonly name: string;
  /** Inactivity after which an open record is emitted (ms). */
  readonly flushMs: number;
  /** Put between the joined texts ('\n' for lines; '' for pieces of one line). */
  readonly joiner: string;
  /** The emitted record is built on the last record of the group (else on the first). */
  readonly onLast: boolean;
  /** Read a record as this parser sees it (docker, cri: parse the line), in place. */
  prepare(r: LogRecord): void;
  /** The text the rules look at, or undefined (the record passes alone). */
  content(r: LogRecord): string | undefined;
  setContent(r: LogRecord, text: string): void;
  /** Records of different keys are assembled apart (cri: stdout and stderr). */
  groupKey(r: LogRecord): string;
  /** What `r` (with content `text`) does, given the open record's state ('' when none is open). */
  step(state: string, text: string, r: LogRecord): Step;
}

function fieldText(r: LogRecord, key: string): string | undefined {
  const b = r.body;
  if (typeof b === 'string') return b;
  const v = b[key];
  return typeof v === 'string' ? v : undefined;
}

function setField(r: LogRecord, key: string, text: string): void {
  if (typeof r.body === 'string') r.body = text;
  else r.body[key] = text;
}

/** Replace a line record's body by what `parser` reads (object records are taken as parsed). */
function parseLine(parser: Parser, r: LogRecord): void {
  if (typeof r.body !== 'string') return;
  const p = parser.parse(r.body);
  if (p === undefined) return;
  r.body = p.fields;
  if (p.time !== undefined) r.time = p.time;
}

export function regexMachine(name: string, rules: RuleMachine, flushMs: number, key: string): Machine {
  const steps = new Map<string, Step>();
  const stepOf = (kind: StepKind, to: string, ends: boolean): Step => {
    const k = `${kind}:${to}:${ends}`;
    let s = steps.get(k);
    if (!s) steps.set(k, (s = { kind, to, ends }));
    return s;
  };
  return {
    name,
    flushMs,
    joiner: '\n',
    onLast: false,
    prepare() {},
    content: (r) => fieldText(r, key),
    setContent: (r, t) => setField(r, key, t),
    groupKey: () => '',
    step(state, text) {
      if (state) {
        const t = rules.next(state, text);
        if (t) return stepOf(StepKind.Continue, t.to, t.ends);
      }
      const t = rules.start(text);
      return t ? stepOf(StepKind.Start, t.to, t.ends) : SINGLE;
    },
  };
}

const PARTIAL_START: Step = { kind: StepKind.Start, to: 'partial', ends: false };
const PARTIAL_NEXT: Step = { kind: StepKind.Continue, to: 'partial', ends: false };
const PARTIAL_LAST: Step = { kind: StepKind.Continue, to: 'partial', ends: true };

/** A piece of a line (partial) opens or continues a record; a whole line ends the open one, or passes alone. */
function pieceStep(partial: boolean, state: string): Step {
  if (partial) return state ? PARTIAL_NEXT : PARTIAL_START;
  return state ? PARTIAL_LAST : SINGLE;
}

/** Docker json-file: a `log` without a trailing newline is a piece of a longer line (split at 16 KiB). */
export function dockerMachine(parser: Parser, flushMs: number, key = 'log'): Machine {
  return {
    name: 'docker',
    flushMs,
    joiner: '',
    onLast: true,
    prepare: (r) => parseLine(parser, r),
    content: (r) => (typeof r.body === 'string' ? undefined : fieldText(r, key)),
    setContent: (r, t) => setField(r, key, t),
    groupKey: (r) => (typeof r.body === 'string' ? '' : String(r.body.stream ?? '')),
    step: (state, text) => pieceStep(!text.endsWith('\n'), state),
  };
}

/** Kubernetes CRI: `P` lines are pieces of the line the next `F` line of the same stream ends. */
export function criMachine(parser: Parser, flushMs: number, key = 'message'): Machine {
  return {
    name: 'cri',
    flushMs,
    joiner: '',
    onLast: true,
    prepare: (r) => parseLine(parser, r),
    content: (r) => (typeof r.body === 'string' ? undefined : (fieldText(r, key) ?? fieldText(r, 'log'))),
    setContent: (r, t) => {
      if (typeof r.body !== 'string' && !(key in r.body) && 'log' in r.body) r.body.log = t;
      else setField(r, key, t);
    },
    groupKey: (r) => (typeof r.body === 'string' ? '' : String(r.body.stream ?? '')),
    step(state, _text, r) {
      const b = r.body as Record<string, unknown>;
      return pieceStep((b.logtag ?? b._p) === 'P', state);
    },
  };
}
