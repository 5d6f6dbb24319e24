/**
 * Polling watcher (watcher: poll, or file systems without inotify events): stats each
 * followed path every poll_interval and reports the ones whose inode, size or mtime changed,
 * in the same form as directory events. New files are found by the refresh pass.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { DirEvent } from './tail-watch-inotify.js';

interface Seen {
  ino: number;
  size: number;
  mtimeMs: number;
}

export class PollWatcher {
  private readonly seen = new Map<string, Seen | null>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly intervalMs: number,
    private readonly onEvent: DirEvent,
  ) {}

  /** Poll exactly these paths. */
  set(paths: Iterable<string>): void {
    const want = new Set(paths);
    for (const p of this.seen.keys()) if (!want.has(p)) this.seen.delete(p);
    for (const p of want) if (!this.seen.has(p)) this.seen.set(p, null);
    if (this.seen.size && !this.timer) this.timer = setInterval(() => void this.poll(), this.intervalMs);
    if (!this.seen.size && this.timer) this.stopTimer();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async poll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const [p, before] of [...this.seen]) {
        let now: Seen | null = null;
        try {
          const s = await stat(p);
          now = { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
        } catch {
          now = null;
        }
        if (!this.seen.has(p)) continue;
        this.seen.set(p, now);
        if (before === null && now === null) continue;
        const kind = !before || !now || before.ino !== now.ino ? 'rename' : before.size !== now.size || before.mtimeMs !== now.mtimeMs ? 'change' : undefined;
        if (kind) this.onEvent(dirname(p), basename(p), kind);
      }
    } finally {
      this.running = false;
    }
  }

  close(): void {
    this.stopTimer();
    this.seen.clear();
  }
}
