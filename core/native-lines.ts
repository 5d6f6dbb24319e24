/**
 * The link's byte paths in the native addon (native/lines.cc): the enclave splitting tailed bytes
 * into lines and writing them as PackedForward entries, the parent finding where the lines are in
 * them and copying them to its file. Their JavaScript originals (scanLines in
 * plugins/tail/tail-lines.ts, EntryWriter.lines in core/forward/entry-encoder.ts,
 * EntryReader.scanLinesJs in entry-decoder.ts, rotated-file's nextBlockPart) handle every form,
 * take whatever the native code leaves to them, and are the whole path when the addon is missing
 * (or QLOG_VSOCK_ADDON=off). The results are the same.
 */
import { loadAddon } from './native-addon.js';

export interface LinesBinding {
  /**
   * Scans entries of the form `[EventTime, {log: <str>, _qlog: {...scalars}}]`: the count, or
   * -1 when any entry is of another form (the JavaScript scan decides), or -2 when the arrays are
   * full (grow them and call again). See native/lines.cc for what it fills.
   */
  scanLogEntries(
    entries: Buffer,
    starts: Uint32Array,
    ends: Uint32Array,
    srcOf: Int32Array,
    seqs: Float64Array,
    srcRanges: Uint32Array,
    info: Float64Array,
  ): number;
  /**
   * Writes the entries of lines [from, to) of a LineBlock without flags (head, line, plain, seq:
   * see EntryWriter.lines) into `dst` from `pos`: the position after them, or -1 when a seq is past
   * 2^53. `bounds[k]`: the position after entry k.
   */
  encodeLines(
    dst: Buffer,
    pos: number,
    head: Buffer,
    plain: Buffer,
    src: Buffer,
    starts: Uint32Array,
    ends: Uint32Array,
    seqs: Uint32Array,
    base: number,
    from: number,
    to: number,
    bounds: Uint32Array | undefined,
  ): number;
  /**
   * rotated-file's run of forwarded lines that need no decision in JavaScript: from line `from`,
   * copies each line without src/seq, or of src index `cur` with a seq above `mark` (NaN: none),
   * each followed by "\n", into `dst` from `pos`; stops before any other line, before a line that
   * does not fit in dst, and after the line that takes the position to `room`. Returns the index
   * it stopped at; info: [position, mark, 1 if the mark moved]. See native/lines.cc.
   */
  gatherRun(
    dst: Buffer,
    pos: number,
    src: Buffer,
    starts: Uint32Array,
    ends: Uint32Array,
    srcOf: Int32Array,
    seqs: Float64Array,
    from: number,
    to: number,
    cur: number,
    mark: number,
    room: number,
    info: Float64Array,
  ): number;
  /**
   * Splits the complete lines of buf[from, to) (`to` just after an LF) into the arrays from entry
   * `index` on: each line's range without LF (and a CR before it), seqBase + the position after
   * its LF, flags 0. Stops at a line longer than maxLine or when the arrays are full: the count
   * of entries filled; info[0] is where it stopped. See scanLines (plugins/tail/tail-lines.ts).
   */
  splitLines(
    buf: Buffer,
    from: number,
    to: number,
    maxLine: number,
    starts: Uint32Array,
    ends: Uint32Array,
    seqs: Uint32Array,
    flags: Uint8Array,
    index: number,
    seqBase: number,
    info: Float64Array,
  ): number;
}

export const SCAN_UNSURE = -1;
export const SCAN_FULL = -2;

let lines: LinesBinding | null | undefined;

/** The addon's line functions, or undefined without the addon. */
export function nativeLines(): LinesBinding | undefined {
  if (lines === undefined) {
    const a = loadAddon();
    const b = 'binding' in a ? (a.binding as Partial<LinesBinding>) : undefined;
    const fns = ['scanLogEntries', 'encodeLines', 'gatherRun', 'splitLines'] as const;
    lines = b && fns.every((k) => typeof b[k] === 'function') ? (b as LinesBinding) : null;
  }
  return lines ?? undefined;
}
