/**
 * msgpack headers, read without decoding anything: how big a value's header is, how many
 * payload bytes follow it (str, bin, ext) and how many elements it opens (array n, map 2n).
 * Shared by the frame splitter (FrameDecoder) and the entry reader's skipValue.
 */

export interface Header {
  /** Bytes of the header, fixed-size data included (ints, floats, fixext). */
  head: number;
  /** Bytes after the header (str, bin, ext data). */
  payload: number;
  /** Elements the value opens: n for an array, 2n for a map. */
  children: number;
}

export const HEADER_OK = 1;
/** A length or count lies beyond `end`: more bytes are needed. */
export const HEADER_INCOMPLETE = 0;
/** 0xc1, the one byte that is never msgpack. */
export const HEADER_INVALID = -1;

/** Read the header of the value at buf[p] (p < end) into `h`. */
export function readHeader(buf: Buffer, p: number, end: number, h: Header): number {
  const b = buf[p]!;
  h.payload = 0;
  h.children = 0;
  if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) h.head = 1;
  else if (b <= 0x8f) {
    h.head = 1;
    h.children = (b & 0x0f) * 2;
  } else if (b <= 0x9f) {
    h.head = 1;
    h.children = b & 0x0f;
  } else if (b <= 0xbf) {
    h.head = 1;
    h.payload = b & 0x1f;
  } else {
    switch (b) {
      case 0xc4:
      case 0xd9:
        h.head = 2;
        break; // bin8, str8
      case 0xc5:
      case 0xda:
        h.head = 3;
        break; // bin16, str16
      case 0xc6:
      case 0xdb:
        h.head = 5;
        break; // bin32, str32
      case 0xc7:
        h.head = 3;
        break; // ext8
      case 0xc8:
        h.head = 4;
        break; // ext16
      case 0xc9:
        h.head = 6;
        break; // ext32
      case 0xca:
        h.head = 5;
        break; // float32
      case 0xcb:
        h.head = 9;
        break; // float64
      case 0xcc:
      case 0xd0:
        h.head = 2;
        break;
      case 0xcd:
      case 0xd1:
        h.head = 3;
        break;
      case 0xce:
      case 0xd2:
        h.head = 5;
        break;
      case 0xcf:
      case 0xd3:
        h.head = 9;
        break;
      case 0xd4:
        h.head = 3;
        break; // fixext1..16: type byte + data
      case 0xd5:
        h.head = 4;
        break;
      case 0xd6:
        h.head = 6;
        break;
      case 0xd7:
        h.head = 10;
        break;
      case 0xd8:
        h.head = 18;
        break;
      case 0xdc:
      case 0xde:
        h.head = 3;
        break; // array16, map16
      case 0xdd:
      case 0xdf:
        h.head = 5;
        break; // array32, map32
      default:
        return HEADER_INVALID;
    }
    // Lengths and counts live in the header: it must be complete to go on.
    if ((b >= 0xc4 && b <= 0xc9) || b >= 0xd9) {
      if (p + h.head > end) return HEADER_INCOMPLETE;
      switch (b) {
        case 0xc4:
        case 0xd9:
        case 0xc7:
          h.payload = buf[p + 1]!;
          break;
        case 0xc5:
        case 0xda:
        case 0xc8:
          h.payload = buf.readUInt16BE(p + 1);
          break;
        case 0xc6:
        case 0xdb:
        case 0xc9:
          h.payload = buf.readUInt32BE(p + 1);
          break;
        case 0xdc:
          h.children = buf.readUInt16BE(p + 1);
          break;
        case 0xdd:
          h.children = buf.readUInt32BE(p + 1);
          break;
        case 0xde:
          h.children = buf.readUInt16BE(p + 1) * 2;
          break;
        case 0xdf:
          h.children = buf.readUInt32BE(p + 1) * 2;
          break;
      }
    }
  }
  return HEADER_OK;
}
