/**
 * Splits a byte stream into whole msgpack objects (frames) without decoding them.
 *
 * It walks the msgpack structure header by header (payloads of str/bin/ext are skipped, not
 * read), keeps its place between reads, and knows a frame's size as soon as the headers say so:
 * a frame larger than `maxFrameSize` is rejected before it is buffered. Nesting deeper than
 * `maxDepth` is rejected too (a decoder would recurse on it).
 */

import { QlogError, type IdsOf } from '../errors.js';
import { HEADER_INCOMPLETE, HEADER_INVALID, readHeader, type Header } from './msgpack-header.js';

type FrameIds = IdsOf<'QLOG_ERR_FORWARD_FRAME_TOO_LARGE' | 'QLOG_ERR_FORWARD_BAD_MSGPACK' | 'QLOG_ERR_FORWARD_TOO_DEEP'>;

/** A byte stream that cannot be split into frames (too large, not msgpack, too deep). */
export class FrameError<I extends FrameIds = FrameIds> extends QlogError<I> {
  override name = 'FrameError';
}

export interface FrameDecoderOptions {
  /** Largest frame accepted, in bytes. */
  maxFrameSize: number;
  /** Deepest nesting accepted (arrays/maps inside each other). Default 64. */
  maxDepth?: number;
  /** Where the buffers that hold frames spanning reads come from (default Buffer.allocUnsafe). */
  alloc?: (size: number) => Buffer;
  /**
   * Called with each buffer given to push() once nothing here refers to it any more: its bytes
   * were copied into a buffer of the decoder's, or its frames were all handed out (and, by the
   * contract of push, copied by whoever keeps them). The caller may free it then.
   */
  done?: (data: Buffer) => void;
}

const EMPTY = Buffer.alloc(0);
/** The header being read (push is synchronous: one object serves every decoder). */
const h: Header = { head: 0, payload: 0, children: 0 };
const MIN_ALLOC = 64 * 1024;

export class FrameDecoder {
  private readonly max: number;
  private readonly maxDepth: number;
  private buf: Buffer = EMPTY;
  /** true when `buf` was allocated here (its spare capacity may be written). */
  private owned = false;
  /** A buffer allocated here and free again (at most max frame size + 64 KiB). */
  private spare: Buffer = EMPTY;
  /** Valid bytes in buf. */
  private len = 0;
  /** Start of the frame being scanned. */
  private start = 0;
  /** Next header to read; may run past `len` while a payload is still arriving. */
  private pos = 0;
  private inFrame = false;
  /** The frame's structure is complete (its last payload may still be arriving). */
  private done = false;
  /** Elements still expected in each open container, innermost last. */
  private readonly stack: number[] = [];
  private readonly alloc: (size: number) => Buffer;
  /** The frame being handed to onFrame, while it is. */
  private frame: Buffer | undefined;
  private readonly doneWith: ((data: Buffer) => void) | undefined;

  constructor(opts: FrameDecoderOptions) {
    this.max = opts.maxFrameSize;
    this.maxDepth = opts.maxDepth ?? 64;
    this.alloc = opts.alloc ?? Buffer.allocUnsafe;
    this.doneWith = opts.done;
  }

  /**
   * During onFrame: the buffer holding the frame, given to the caller for good (no copy), when
   * it was allocated here (`alloc`) and is still ours; else undefined (copy the frame). The
   * decoder never writes to it again: it goes on with a new buffer.
   */
  take(): Buffer | undefined {
    if (this.frame === undefined || !this.owned || this.frame.buffer !== this.buf.buffer) return undefined;
    const taken = this.buf;
    // Bytes after the frame (the next one's start) move to a buffer of ours: the taker may
    // reuse its buffer as soon as it is done with the frame.
    const rest = this.len - this.start;
    if (rest > 0) {
      const nb = this.alloc(Math.max(rest, Math.min(this.pos - this.start, this.max), MIN_ALLOC));
      taken.copy(nb, 0, this.start, this.len);
      this.pos -= this.start;
      this.start = 0;
      this.len = rest;
      this.buf = nb;
    } else {
      this.buf = EMPTY;
      this.owned = false;
      this.len = this.start = this.pos = 0;
    }
    return taken;
  }

  /** Bytes held for a frame that is not complete yet. */
  /** A frame has started and is not complete yet. */
  get pending(): boolean {
    return this.inFrame;
  }

  get buffered(): number {
    return this.len - this.start;
  }

  /**
   * Add bytes; `onFrame` is called synchronously for every complete frame, in order. The frame
   * is valid during the call only: its memory is reused for later frames (a fresh buffer per
   * frame costs a page fault per 4 KiB), so copy what you keep (or take() the buffer). Throws a FrameError on bytes
   * that are not msgpack, on a frame over the limit or nested too deep; the decoder is then
   * unusable (drop the connection). Buffers pushed are reported to `done` (the option) once
   * nothing here refers to them.
   */
  push(data: Buffer, onFrame: (frame: Buffer) => void): void {
    if (data.length === 0) return;
    const inPlace = this.append(data);
    // Reloaded after each frame: onFrame may take the buffer (take()).
    let buf = this.buf;
    let len = this.len;
    const stack = this.stack;
    for (;;) {
      if (this.done) {
        // Structure complete; wait for the tail of the last payload.
        if (this.pos > len) break;
        const frame = buf.subarray(this.start, this.pos);
        this.inFrame = false;
        this.done = false;
        this.start = this.pos;
        this.frame = frame;
        try {
          onFrame(frame);
        } finally {
          this.frame = undefined;
        }
        buf = this.buf;
        len = this.len;
        continue;
      }
      const p = this.pos;
      if (p >= len) break;
      if (!this.inFrame) {
        this.inFrame = true;
        this.start = p;
      }
      const r = readHeader(buf, p, len, h);
      if (r === HEADER_INCOMPLETE) break;
      if (r === HEADER_INVALID) throw new FrameError('QLOG_ERR_FORWARD_BAD_MSGPACK', { byte: buf[p]!.toString(16), offset: p - this.start });
      const children = h.children;
      const next = p + h.head + h.payload;
      if (next - this.start > this.max) throw new FrameError('QLOG_ERR_FORWARD_FRAME_TOO_LARGE/at-least', { max: this.max, size: next - this.start });
      this.pos = next;
      if (children > 0) {
        if (stack.length >= this.maxDepth) throw new FrameError('QLOG_ERR_FORWARD_TOO_DEEP', { depth: this.maxDepth });
        stack.push(children);
        continue;
      }
      // An element is complete: close every container it completes.
      while (stack.length > 0) {
        const t = stack.length - 1;
        if (--stack[t]! > 0) break;
        stack.pop();
      }
      if (stack.length === 0) this.done = true;
    }
    if (!this.inFrame && this.start >= this.len) this.release();
    else if (this.len - this.start > this.max) {
      // Only reachable if a single header is incomplete for too long; keeps memory bounded anyway.
      throw new FrameError('QLOG_ERR_FORWARD_FRAME_TOO_LARGE', { max: this.max });
    }
    // Copied, or scanned in place and left: a frame still open in it keeps it until append()
    // copies that frame's start into a buffer of ours.
    if (this.doneWith && (!inPlace || this.buf !== data)) this.doneWith(data);
  }

  /** Keep the current buffer, if it is ours and bigger than the spare, for the next frame. */
  private keepSpare(): void {
    if (this.owned && this.buf.length > this.spare.length) this.spare = this.buf;
  }

  /** Forget everything buffered (after a connection reset). */
  reset(): void {
    this.release();
    this.inFrame = this.done = false;
    this.stack.length = 0;
  }

  private release(): void {
    this.keepSpare();
    this.buf = EMPTY;
    this.owned = false;
    this.len = this.start = this.pos = 0;
  }

  /** True when `data` is scanned in place (frames may be views of it), false when copied. */
  private append(data: Buffer): boolean {
    const keep = this.len - this.start;
    if (keep === 0 && !this.inFrame) {
      // Nothing pending: scan the caller's buffer in place (no copy).
      this.buf = data;
      this.owned = false;
      this.len = data.length;
      this.start = this.pos = 0;
      return true;
    }
    if (this.owned && this.buf.length - this.len >= data.length) {
      data.copy(this.buf, this.len);
      this.len += data.length;
      return false;
    }
    const need = keep + data.length;
    // The headers may already tell how big the frame is (pos past len): allocate that at once.
    const known = Math.min(this.pos - this.start, this.max);
    const cap = Math.max(need, known, Math.min(need * 2, this.max + MIN_ALLOC), MIN_ALLOC);
    // Frames handed out are done with (see push): the spare buffer, if big enough, takes the
    // rest of this frame; else a new one, and the old one may become the spare.
    const spare = this.spare;
    const nb = spare.length >= cap && spare !== this.buf ? spare : this.alloc(cap);
    if (nb === spare) this.spare = EMPTY;
    this.buf.copy(nb, 0, this.start, this.len);
    // A caller's buffer that held the frame's start (scanned in place) is done with now.
    if (!this.owned && this.buf !== EMPTY) this.doneWith?.(this.buf);
    this.keepSpare();
    data.copy(nb, keep);
    this.pos -= this.start;
    this.start = 0;
    this.buf = nb;
    this.owned = true;
    this.len = need;
    return false;
  }
}
