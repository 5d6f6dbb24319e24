/**
 * How tail notices changes: directory watches (inotify) or polling, chosen by `watcher`, and the
 * mapping of their events to follower work (read a file, re-check a path, rescan).
 */
import { dirname } from 'node:path';
import type { TailFile } from './tail-file.js';
import type { FollowerLog, FollowerOptions } from './tail-follower.js';
import { eventlessFs, InotifyWatcher } from './tail-watch-inotify.js';
import { PollWatcher } from './tail-watch-poll.js';

/** What watching may do to the follower. */
export interface WatchHost {
  readonly stopping: boolean;
  readonly log: FollowerLog;
  count(name: string): void;
  /** The files followed (the ones at a path are watched). */
  files(): Iterable<TailFile>;
  /** The file followed at this path (or real path). */
  atPath(path: string): TailFile | undefined;
  /** Read `f` (it changed). */
  markDirty(f: TailFile): void;
  /** Re-stat `path` (rotation, deletion, new file). */
  check(path: string): void;
  /** Glob the patterns again. */
  rescan(): void;
}

export type WatchOptions = Pick<FollowerOptions, 'watcher' | 'pollMs' | 'paths'>;

export class Watching {
  mode: 'inotify' | 'poll' = 'inotify';
  private inotify: InotifyWatcher | undefined;
  private poll: PollWatcher | undefined;
  private readonly warned = new Set<string>();

  constructor(
    private readonly host: WatchHost,
    private readonly opts: WatchOptions,
  ) {}

  async pickMode(): Promise<void> {
    const w = this.opts.watcher;
    if (w !== 'auto') {
      this.mode = w;
      return;
    }
    for (const dir of this.opts.paths.baseDirs) {
      const fs = await eventlessFs(dir);
      if (fs) {
        this.host.log.info({ dir, fs }, `${fs} gives no change events: polling every ${this.opts.pollMs} ms`);
        this.mode = 'poll';
        return;
      }
    }
    this.mode = 'inotify';
  }

  readonly onEvent = (dir: string, name: string | null, kind: 'rename' | 'change'): void => {
    if (this.host.stopping) return;
    if (name === null) {
      this.host.rescan();
      return;
    }
    const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
    const f = this.host.atPath(p);
    if (f) {
      this.host.markDirty(f);
      if (kind === 'rename') this.host.check(f.path);
    } else if (this.opts.paths.matches(p)) this.host.check(p);
  };

  /** Watch the directories of followed files and of the patterns (or poll the files). */
  update(): void {
    if (this.mode === 'poll') {
      this.poll ??= new PollWatcher(this.opts.pollMs, this.onEvent);
      this.poll.set([...this.host.files()].filter((f) => f.following).map((f) => f.path));
      return;
    }
    this.inotify ??= new InotifyWatcher(this.onEvent, (dir, err) => {
      this.host.count('watch_errors');
      if (this.warned.has(dir)) return;
      this.warned.add(dir);
      this.host.log.warn({ dir, err }, 'cannot watch directory; its files are re-checked every refresh_interval');
      if (this.opts.watcher === 'auto' && this.mode === 'inotify') {
        this.host.log.warn({}, `falling back to polling every ${this.opts.pollMs} ms`);
        this.mode = 'poll';
        this.inotify?.close();
        this.update();
      }
    });
    const dirs = new Set(this.opts.paths.baseDirs);
    for (const f of this.host.files()) {
      if (!f.following) continue;
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
