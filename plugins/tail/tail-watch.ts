/**
 * How tail notices changes: directory watches (inotify) or polling, chosen by `watcher`, and the
 * mapping of their events to follower work (read a file, re-check a path, rescan).
 */
import { dirname } from 'node:path';
import type { Follower } from './tail-follower.js';
import { eventlessFs, InotifyWatcher } from './tail-watch-inotify.js';
import { PollWatcher } from './tail-watch-poll.js';

export class Watching {
  mode: 'inotify' | 'poll' = 'inotify';
  private inotify: InotifyWatcher | undefined;
  private poll: PollWatcher | undefined;
  private readonly warned = new Set<string>();

  constructor(private readonly t: Follower) {}

  async pickMode(): Promise<void> {
    const w = this.t.opts.watcher;
    if (w !== 'auto') {
      this.mode = w;
      return;
    }
    for (const dir of this.t.opts.paths.baseDirs) {
      const fs = await eventlessFs(dir);
      if (fs) {
        this.t.sink.log.info({ dir, fs }, `${fs} gives no change events: polling every ${this.t.opts.pollMs} ms`);
        this.mode = 'poll';
        return;
      }
    }
    this.mode = 'inotify';
  }

  readonly onEvent = (dir: string, name: string | null, kind: 'rename' | 'change'): void => {
    if (this.t.isStopping) return;
    if (name === null) {
      this.t.rescan();
      return;
    }
    const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
    const f = this.t.byPath.get(p);
    if (f) {
      this.t.markDirty(f);
      if (kind === 'rename') this.t.check(f.path);
    } else if (this.t.opts.paths.matches(p)) this.t.check(p);
  };

  /** Watch the directories of followed files and of the patterns (or poll the files). */
  update(): void {
    if (this.mode === 'poll') {
      this.poll ??= new PollWatcher(this.t.opts.pollMs, this.onEvent);
      this.poll.set([...this.t.files.values()].filter((f) => f.state === 'active').map((f) => f.path));
      return;
    }
    this.inotify ??= new InotifyWatcher(this.onEvent, (dir, err) => {
      this.t.sink.count('watch_errors');
      if (this.warned.has(dir)) return;
      this.warned.add(dir);
      this.t.sink.log.warn({ dir, err }, 'cannot watch directory; its files are re-checked every refresh_interval');
      if (this.t.opts.watcher === 'auto' && this.mode === 'inotify') {
        this.t.sink.log.warn({}, `falling back to polling every ${this.t.opts.pollMs} ms`);
        this.mode = 'poll';
        this.inotify?.close();
        this.update();
      }
    });
    const dirs = new Set(this.t.opts.paths.baseDirs);
    for (const f of this.t.files.values()) {
      if (f.state !== 'active') continue;
      dirs.add(dirname(f.path));
      dirs.add(dirname(f.realPath));
    }
    this.inotify.set(dirs);
  }

  close(): void {
    this.inotify?.close();
    this.poll?.close();
  }
}
