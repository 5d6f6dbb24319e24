/**
 * A free list of same-size Buffers for data whose end of life is known (a tail read buffer
 * handed to a LineBlock comes back when its chunk settled; a frame comes back when the
 * receiver acked it). Reusing them keeps the agent's memory at what is in use: Buffers left to
 * the garbage collector pile up as external memory until a full GC, tens of MB at full speed.
 * The free buffers are for the next burst: when the agent gives memory back (core/memory.ts),
 * dropSpareBuffers() lets them go (after a catch-up, vsock-forward's 1 MiB frames and tail's read
 * buffers held ~6 MiB that a steady flow never used again).
 */

import { addonFunction } from './native-addon.js';

/** Every pool alive (weakly: a reload drops a pipeline's pools), for dropSpareBuffers(). */
const pools = new Set<WeakRef<BufferPool>>();

let release: ((buf: Buffer) => boolean) | null | undefined;
/**
 * Frees the memory of `buf` now (native/memory.cc releaseBuffer), when it views a whole
 * ArrayBuffer of its own: `buf` is empty afterwards. Only for a buffer nothing else refers to (a
 * read buffer the frame decoder is done with, a settled chunk's message). False, untouched,
 * otherwise or without the addon.
 */
export function releaseBuffer(buf: Buffer): boolean {
  if (release === undefined) release = addonFunction<(buf: Buffer) => boolean>('releaseBuffer') ?? null;
  return release !== null && buf.byteOffset === 0 && buf.length === buf.buffer.byteLength && release(buf);
}

/** Drop the free buffers of every pool (buffers in use come back to their pool as usual); returns the bytes dropped. */
export function dropSpareBuffers(): number {
  let bytes = 0;
  for (const ref of pools) {
    const p = ref.deref();
    if (p) bytes += p.dropSpare();
    else pools.delete(ref);
  }
  return bytes;
}

export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    /** Size of every pooled buffer. */
    readonly size: number,
    /** Free buffers kept at most (the rest are left to the GC). */
    private readonly keep: number,
  ) {
    pools.add(new WeakRef(this));
  }

  acquire(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /**
   * Give back a buffer from acquire(); nothing may use it afterwards. True when kept for reuse;
   * false when it is not one of this pool's size, enough are free, or it is free already.
   */
  release(b: Buffer): boolean {
    if (b.length !== this.size || b.byteOffset !== 0 || this.free.length >= this.keep || this.free.includes(b)) return false;
    this.free.push(b);
    return true;
  }

  /**
   * Give back a buffer taken for data whose end of life is known, and free it at once when the
   * pool does not keep it (releaseBuffer): nothing may use it afterwards.
   */
  recycle(b: Buffer): void {
    if (!this.release(b) && !this.free.includes(b)) releaseBuffer(b);
  }

  /** A buffer for `n` bytes: pooled when it fills a quarter of one at least, else its own exact one. */
  take(n: number): { buf: Buffer; pooled: boolean } {
    if (n <= this.size && n * 4 >= this.size) return { buf: this.acquire(), pooled: true };
    return { buf: Buffer.allocUnsafe(n), pooled: false };
  }

  /** Let the free buffers go; returns their bytes. */
  dropSpare(): number {
    const bytes = this.free.length * this.size;
    this.free.length = 0;
    return bytes;
  }

  get available(): number {
    return this.free.length;
  }
}
