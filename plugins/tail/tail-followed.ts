/**
 * The files tail follows: every open one by device:inode, and the ones followed at a path by
 * that path and by their real path (where watch events name them).
 */
import type { TailFile } from './tail-file.js';

export class FollowedFiles {
  readonly byKey = new Map<string, TailFile>();
  readonly byPath = new Map<string, TailFile>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): TailFile | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  values(): IterableIterator<TailFile> {
    return this.byKey.values();
  }

  atPath(path: string): TailFile | undefined {
    return this.byPath.get(path);
  }

  add(f: TailFile): void {
    this.byKey.set(f.key, f);
  }

  /** Events for `path` are about `f`. */
  bind(f: TailFile, path: string): void {
    this.byPath.set(path, f);
  }

  /** `f` no longer answers to its path and real path. */
  unbind(f: TailFile): void {
    for (const p of [f.path, f.realPath]) if (this.byPath.get(p) === f) this.byPath.delete(p);
  }

  /** `f` is no longer followed at all; true if it was the file followed under its device:inode. */
  remove(f: TailFile): boolean {
    const was = this.byKey.get(f.key) === f;
    if (was) this.byKey.delete(f.key);
    this.unbind(f);
    return was;
  }
}
