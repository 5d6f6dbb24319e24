/**
 * Sealed records, as the parent sees them (docs/sealing.md): a unit of an enclave's records,
 * encrypted in the enclave (core/seal), travels as one record `{sealed: <age bytes>, _qlog: {src,
 * seq: <last>, seq_first: <first>, sealed_size}}` (a closing unit: `end: true` and seq_last, no
 * seq). The
 * parent never opens it: its dedupe by src/seq works unchanged, rotated-file writes one
 * `qlog-sealed/1` line per unit, msgpack outputs pass the bytes as bin, JSON outputs as base64.
 */
import { recordBytes, type LogRecord } from './record.js';
import { formatSealedLine } from './seal/line.js';

/** The field of a sealed record's body that holds the age file bytes. */
export const SEALED_FIELD = 'sealed';

/** recordBytes of a sealed unit's record (its bytes count as one value): what a unit adds to a chunk's bytes. */
export const SEALED_RECORD_BYTES = recordBytes({ time: 0n, tag: '', body: { [SEALED_FIELD]: new Uint8Array(0) }, meta: {} });

/**
 * The bytes of a sealed unit as a view that JSON.stringify writes as a base64 string (a Buffer
 * would become `{"type":"Buffer","data":[...]}`); msgpack writers still see a Uint8Array (bin).
 */
export class SealedBytes extends Uint8Array {
  toJSON(): string {
    return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString('base64');
  }
}

/** The sealed bytes of a record, or undefined when it is not a sealed unit. */
export function sealedBytes(r: LogRecord): Uint8Array | undefined {
  const b = r.body;
  if (typeof b === 'string') return undefined;
  const s = b[SEALED_FIELD];
  return s instanceof Uint8Array ? s : undefined;
}

/**
 * A record decoded from the wire: a sealed unit's bytes get the SealedBytes view (no copy), so
 * every output that writes JSON writes them as base64. Returns whether it is a sealed unit.
 */
export function markSealedRecord(r: LogRecord): boolean {
  const b = r.body;
  if (typeof b === 'string') return false;
  const s = b[SEALED_FIELD];
  if (!(s instanceof Uint8Array)) return false;
  if (!(s instanceof SealedBytes)) b[SEALED_FIELD] = new SealedBytes(s.buffer as ArrayBuffer, s.byteOffset, s.byteLength);
  return true;
}

/**
 * The text line of a sealed unit, `qlog-sealed/1 <src> <first>-<last> <base64>` (core/seal's
 * format, what `qlog open` reads), or undefined for any other record. A closing unit has no seq
 * (the parent's marks must not drop it): its range is its seq_first-seq_last.
 */
export function sealedLine(r: LogRecord): string | undefined {
  const bytes = sealedBytes(r);
  if (bytes === undefined) return undefined;
  const m = r.meta;
  const last = typeof m.seq === 'number' ? m.seq : typeof m.seq_last === 'number' ? m.seq_last : 0;
  const first = typeof m.seq_first === 'number' ? m.seq_first : last;
  const src = typeof m.src === 'string' && m.src !== '' ? m.src : '-';
  return formatSealedLine(src, first, last, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
