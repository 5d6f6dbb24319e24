/**
 * Forward protocol EventTime: msgpack ext type 0, 8 bytes = uint32 BE seconds + uint32 BE
 * nanoseconds since the epoch. The decoder is registered with msgpackr on import (extensions are
 * process-wide).
 */
import { addExtension } from 'msgpackr';

const NS_PER_S = 1_000_000_000n;

export class EventTime {
  constructor(
    readonly sec: number,
    readonly nsec: number,
  ) {}

  static fromNs(ns: bigint): EventTime {
    const sec = ns / 1_000_000_000n;
    return new EventTime(Number(sec), Number(ns - sec * 1_000_000_000n));
  }

  toNs(): bigint {
    return BigInt(this.sec) * 1_000_000_000n + BigInt(this.nsec);
  }
}

// Decoding only: msgpackr's addExtension refuses a Class with type 0 (falsy), and encoding is done
// by hand anyway (writeEventTime), which is faster than a per-record class instance.
addExtension({
  type: 0,
  unpack(b: Uint8Array): EventTime {
    if (b.length !== 8) throw new Error(`EventTime must be 8 bytes, found ${b.length}`);
    const sec = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const nsec = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
    return new EventTime(sec, nsec);
  },
});

/** Bytes of an encoded EventTime (fixext 8). */
export const EVENT_TIME_BYTES = 10;

/** Write `ns` as an EventTime (0xd7 0x00 + seconds + nanoseconds) at `pos`; returns the new position. */
export function writeEventTime(buf: Buffer, pos: number, ns: bigint): number {
  const sec = ns / NS_PER_S;
  buf[pos] = 0xd7;
  buf[pos + 1] = 0;
  buf.writeUInt32BE(Number(sec) >>> 0, pos + 2);
  buf.writeUInt32BE(Number(ns - sec * NS_PER_S), pos + 6);
  return pos + EVENT_TIME_BYTES;
}

/**
 * A wire time (EventTime, integer or float seconds) in nanoseconds, or undefined if it is not a
 * valid time.
 */
export function wireTimeToNs(t: unknown): bigint | undefined {
  if (t instanceof EventTime) return t.nsec < 1_000_000_000 ? t.toNs() : undefined;
  if (typeof t === 'number') {
    if (!Number.isFinite(t) || t < 0) return undefined;
    if (Number.isInteger(t)) return BigInt(t) * NS_PER_S;
    const s = Math.floor(t);
    return BigInt(s) * NS_PER_S + BigInt(Math.round((t - s) * 1e9));
  }
  return undefined;
}
