/**
 * Truncation (copytruncate or plain): detection for files we cannot read right now, and the
 * restart of a truncated file.
 *
 * A file is truncated when it is shorter than our offset, or when its first bytes (the
 * fingerprint) changed: it was truncated and grew past our offset again before we looked.
 * Files waiting for downstream room, or for a rotated predecessor to be finished, are probed
 * every tick so that a second rotation in the meantime does not go unnoticed: the copy of
 * each generation is found (and held open) while it is still there.
 */
import type { Stream } from './tail-discover.js';
import { HEAD_MAX, type TailFile } from './tail-file.js';
import type { Follower } from './tail-follower.js';

export class Truncation {
  private readonly scratch = Buffer.allocUnsafe(HEAD_MAX);

  constructor(private readonly t: Follower) {}

  /** Without reading data: is `f` truncated? Also extends its fingerprint as the file grows. */
  async probe(f: TailFile): Promise<void> {
    if (f.closed || f.state !== 'active') return;
    try {
      if ((await f.fsize()) < f.offset) return await this.handle(f, 'size');
      const blind = f.head.length === 0;
      if ((await f.checkHead(this.scratch)) === 'changed') return await this.handle(f, 'fingerprint');
      // The first bytes of a generation we knew nothing of: were others truncated before it?
      if (blind && f.head.length > 0) await this.t.discovery.adoptUnseen(f);
    } catch (err) {
      this.t.sink.count('read_errors');
      this.t.sink.log.debug({ err, path: f.path }, 'probe failed');
    }
  }

  /** Finish the old content from the copy a copytruncate left (if any), restart `f` at 0. */
  async handle(f: TailFile, why: 'size' | 'fingerprint'): Promise<void> {
    this.t.sink.count('truncations');
    const queue = f.queue;
    const old: Stream = { path: f.path, sid: f.sid, gen: f.gen, offset: f.offset, inLong: f.inLong, queue };
    const head = f.head;
    // Even at offset 0: the copy then holds a whole generation we had not read yet.
    const copy = head.length > 0 ? await this.t.discovery.adoptCopy(f.realPath, old, f.tag, (h) => h.equals(head), head.length) : undefined;
    if (copy) {
      // A copy of an earlier generation may still be unread: keep the order.
      if (f.after && !f.after.closed) copy.after = f.after;
      f.after = copy;
    } else queue.owner = undefined; // that stream ends here: its late settlements change nothing
    this.t.sink.log.info(
      { path: f.path, offset: old.offset, why, copy: copy?.realPath },
      copy ? 'file truncated (copytruncate): reading the rest from the copy, then the file from its start' : 'file truncated: reading it from its start',
    );
    f.gen++;
    f.setSrc();
    f.head = await f.readHead();
    f.startAt(0);
    // Generations created and truncated since our last look left copies too: read them in between.
    await this.t.discovery.adoptUnseen(f);
    if (copy) f.copiesSince = Math.max(f.copiesSince, Number(copy.stat.birthtimeMs));
    this.t.commit(f);
    this.t.markDirty(f);
  }
}
