/**
 * A msgpack reader for the handshake messages (HELO, PING, PONG) that keeps every str and bin as
 * its bytes. The spec types nonce, salt and auth as "str|bin binary string", and Fluent Bit sends
 * 16 random bytes as a msgpack str: decoded as UTF-8, invalid sequences become U+FFFD and the
 * digest no longer matches. Map keys are read as UTF-8 (they are protocol names). The frame has
 * already passed FrameDecoder (size and depth bounded), so recursion is bounded too.
 */
import { HEADER_OK, readHeader, type Header } from './msgpack-header.js';

const header: Header = { head: 0, payload: 0, children: 0 };

/** Not valid msgpack, or trailing bytes. */
export class RawDecodeError extends Error {}

/** The frame as JS values: str and bin are Buffers (views into `frame`), ints numbers, ext undefined. */
export function unpackRaw(frame: Buffer): unknown {
  const pos = { p: 0 };
  const v = value(frame, pos);
  if (pos.p !== frame.length) throw new RawDecodeError(`${frame.length - pos.p} bytes after the message`);
  return v;
}

function value(buf: Buffer, pos: { p: number }): unknown {
  const p = pos.p;
  if (p >= buf.length || readHeader(buf, p, buf.length, header) !== HEADER_OK) throw new RawDecodeError(`invalid or truncated msgpack at offset ${p}`);
  const { head, payload, children } = header;
  const b = buf[p]!;
  const start = p + head;
  const end = start + payload;
  if (end > buf.length) throw new RawDecodeError(`truncated msgpack at offset ${p}`);
  pos.p = end;
  if (b <= 0x7f) return b;
  if (b >= 0xe0) return b - 0x100;
  if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb) || (b >= 0xc4 && b <= 0xc6)) return buf.subarray(start, end);
  if ((b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd) {
    const a: unknown[] = [];
    for (let i = 0; i < children; i++) a.push(value(buf, pos));
    return a;
  }
  if ((b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf) {
    const m: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (let i = 0; i < children / 2; i++) {
      const k = value(buf, pos);
      const v = value(buf, pos);
      m[Buffer.isBuffer(k) ? k.toString('utf8') : String(k)] = v;
    }
    return m;
  }
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xcc:
      return buf[p + 1]!;
    case 0xcd:
      return buf.readUInt16BE(p + 1);
    case 0xce:
      return buf.readUInt32BE(p + 1);
    case 0xcf:
      return Number(buf.readBigUInt64BE(p + 1));
    case 0xd0:
      return buf.readInt8(p + 1);
    case 0xd1:
      return buf.readInt16BE(p + 1);
    case 0xd2:
      return buf.readInt32BE(p + 1);
    case 0xd3:
      return Number(buf.readBigInt64BE(p + 1));
    case 0xca:
      return buf.readFloatBE(p + 1);
    case 0xcb:
      return buf.readDoubleBE(p + 1);
    default:
      return undefined; // ext: no handshake field is one
  }
}
