/** The msgpackr instances of the Forward codec (plain msgpack, as every Forward peer expects). */
import { Packr, Unpackr } from 'msgpackr';
import './event-time.js'; // registers the EventTime (ext 0) decoder

/** msgpackr 2.1 implements int64AsType 'auto' but its typings do not list it. */
const AUTO = 'auto' as 'bigint';

/** Plain msgpack (no msgpackr records/structures), so any Forward implementation can read it. */
export const packr = new Packr({ useRecords: false, largeBigIntToFloat: true, encodeUndefinedAsNil: true });
/**
 * Maps become plain objects (`__proto__` keys are renamed by msgpackr); 64-bit ints are numbers
 * while a number holds them exactly (|n| <= 2^53) and bigints beyond, so 9007199254740993 stays
 * 9007199254740993 end to end; bin values are copies: a frame's memory is reused once it is
 * decoded (FrameDecoder).
 */
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: AUTO, copyBuffers: true });
