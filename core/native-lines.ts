/**
 * The parent's scan of forwarded lines in the native addon (native/lines.cc): where a
 * PackedForward message's lines are. Its JavaScript original, EntryReader.scanLinesJs in
 * core/forward/entry-decoder.ts, reads every form and is used for whatever the native scan leaves
 * to it, and when the addon is missing (or QLOG_VSOCK_ADDON=off). The results are the same.
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
}

export const SCAN_UNSURE = -1;
export const SCAN_FULL = -2;

let lines: LinesBinding | null | undefined;

/** The addon's line functions, or undefined without the addon. */
export function nativeLines(): LinesBinding | undefined {
  if (lines === undefined) {
    const a = loadAddon();
    const b = 'binding' in a ? (a.binding as Partial<LinesBinding>) : undefined;
    lines = typeof b?.scanLogEntries === 'function' ? (b as LinesBinding) : null;
  }
  return lines ?? undefined;
}
