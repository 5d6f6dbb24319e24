/**
 * The text form of a sealed unit in a file (what rotated-file writes, one per line):
 *
 *   qlog-sealed/1 <src> <first>-<last> <base64 of the age file>
 *
 * src is the stream id with spaces and control characters %-escaped (it is cleartext metadata the
 * parent needs anyway); the unit inside repeats src, first and last, and `qlog open` checks they agree.
 */
export const SEALED_LINE_PREFIX = 'qlog-sealed/1 ';

function escapeSrc(src: string): string {
  let out = '';
  for (const c of src) {
    const code = c.charCodeAt(0);
    // encodeURIComponent escapes each of these (as %XX of its UTF-8 bytes).
    out += c === '%' || code <= 0x20 || code === 0x7f || /\s/.test(c) ? encodeURIComponent(c) : c;
  }
  return out;
}

/** The line's text before the base64: `qlog-sealed/1 <src> <first>-<last> `. */
export function sealedLineHead(src: string, first: number, last: number): string {
  return `${SEALED_LINE_PREFIX}${escapeSrc(src)} ${first}-${last} `;
}

/** The line (without "\n") for a unit. */
export function formatSealedLine(src: string, first: number, last: number, bytes: Buffer): string {
  return sealedLineHead(src, first, last) + bytes.toString('base64');
}

/** Bytes of base64 per step of writeBase64 (a multiple of 3: no padding between steps). */
const BASE64_STEP = 3 << 14;

/** Length of the base64 of n bytes. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/**
 * Write the base64 of `src[start, end)` into `dst` at `off` (room: base64Length); returns the
 * offset after it. In steps of 48 KiB: short-lived strings the young generation reclaims cheaply,
 * where one string per unit (1.6 MB for a 1.2 MB unit) lands in large-object space and costs a
 * full GC; measured at half the CPU of one toString('base64') and a latin1 write of it.
 */
export function writeBase64(dst: Buffer, off: number, src: Buffer, start: number, end: number): number {
  const d = dst as Buffer & { latin1Write(s: string, offset: number): number };
  for (let i = start; i < end; i += BASE64_STEP) off += d.latin1Write(src.toString('base64', i, Math.min(end, i + BASE64_STEP)), off);
  return off;
}

export interface SealedLine {
  src: string;
  first: number;
  last: number;
  bytes: Buffer;
}

/** A sealed line's parts, or the reason it is not one. */
export function parseSealedLine(line: string): SealedLine | { error: string } {
  if (!line.startsWith(SEALED_LINE_PREFIX)) {
    return { error: `the line does not start with "${SEALED_LINE_PREFIX.trim()}" (found ${JSON.stringify(line.slice(0, 30))})` };
  }
  const parts = line.slice(SEALED_LINE_PREFIX.length).split(' ');
  if (parts.length !== 3) return { error: `expected "${SEALED_LINE_PREFIX}<src> <first>-<last> <base64>", found ${parts.length} fields after the prefix` };
  const [src, range, b64] = parts as [string, string, string];
  const m = /^(\d+)-(\d+)$/.exec(range);
  if (!m) return { error: `expected a seq range <first>-<last>, found ${JSON.stringify(range.slice(0, 30))}` };
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return { error: 'the unit is not base64' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(src);
  } catch {
    return { error: `the src ${JSON.stringify(src.slice(0, 40))} has a bad %-escape` };
  }
  return { src: decoded, first: Number(m[1]), last: Number(m[2]), bytes: Buffer.from(b64, 'base64') };
}
