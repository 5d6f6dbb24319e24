/** The msgpackr instances of the Forward codec (plain msgpack, as every Forward peer expects). */
import { Packr, Unpackr } from 'msgpackr';
import './event-time.js'; // registers the EventTime (ext 0) decoder

/** Plain msgpack (no msgpackr records/structures), so any Forward implementation can read it. */
export const packr = new Packr({ useRecords: false, largeBigIntToFloat: true, encodeUndefinedAsNil: true });
/**
 * Maps become plain objects (`__proto__` keys are renamed by msgpackr), 64-bit ints numbers,
 * and bin values are copies: a frame's memory is reused once it is decoded (FrameDecoder).
 */
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number', copyBuffers: true });
