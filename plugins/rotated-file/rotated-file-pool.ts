/** Open writers by file, least recently used first; idle ones are closed beyond max_open_files. */
import type { RotatedFileWriter } from './rotated-file-writer.js';

export class WriterPool {
  private readonly open = new Map<string, RotatedFileWriter>();
  /** Writers being closed, so that a new writer for the same file waits for the old one. */
  private readonly closing = new Map<string, Promise<void>>();

  constructor(
    private readonly max: number,
    private readonly make: (rel: string) => RotatedFileWriter,
    private readonly onCount: (n: number) => void,
  ) {}

  async get(rel: string): Promise<RotatedFileWriter> {
    let w = this.open.get(rel);
    if (w) {
      // Move to the most recently used end.
      this.open.delete(rel);
      this.open.set(rel, w);
      return w;
    }
    const prev = this.closing.get(rel);
    if (prev) await prev;
    w = this.open.get(rel);
    if (w) return w;
    w = this.make(rel);
    this.open.set(rel, w);
    this.evict(rel);
    this.onCount(this.open.size);
    return w;
  }

  private evict(keep: string): void {
    if (this.open.size <= this.max) return;
    for (const [rel, w] of this.open) {
      if (this.open.size <= this.max) break;
      if (w.busy || rel === keep) continue;
      this.open.delete(rel);
      const p = w.close().finally(() => {
        if (this.closing.get(rel) === p) this.closing.delete(rel);
      });
      this.closing.set(rel, p);
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    this.onCount(0);
    await Promise.all([...all.map((w) => w.close()), ...this.closing.values()]);
  }
}
