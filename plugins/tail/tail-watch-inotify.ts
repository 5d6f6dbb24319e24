/**
 * Directory watches (fs.watch = inotify on Linux). We watch directories, not files: a watch
 * on a file follows its inode after a rename and never sees the file created in its place.
 * Events only say "look at this name"; the follower re-stats, so lost or merged events do
 * no harm beyond latency (the refresh pass catches up).
 */
import { watch, type FSWatcher } from 'node:fs';
import { statfs } from 'node:fs/promises';

export type DirEvent = (dir: string, name: string | null, kind: 'rename' | 'change') => void;

export class InotifyWatcher {
  private readonly watches = new Map<string, FSWatcher>();

  constructor(
    private readonly onEvent: DirEvent,
    /** A directory could not be watched (or its watch died); it is retried on the next set(). */
    private readonly onFail: (dir: string, err: unknown) => void,
  ) {}

  get size(): number {
    return this.watches.size;
  }

  has(dir: string): boolean {
    return this.watches.has(dir);
  }

  /** Watch exactly these directories (missing ones are skipped silently: ENOENT). */
  set(dirs: Iterable<string>): void {
    const want = new Set(dirs);
    for (const [dir, w] of this.watches) {
      if (!want.has(dir)) {
        w.close();
        this.watches.delete(dir);
      }
    }
    for (const dir of want) {
      if (this.watches.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: true }, (kind, name) =>
          this.onEvent(dir, name === null ? null : String(name), kind === 'rename' ? 'rename' : 'change'),
        );
        w.on('error', (err) => {
          w.close();
          if (this.watches.get(dir) === w) this.watches.delete(dir);
          this.onFail(dir, err);
        });
        this.watches.set(dir, w);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onFail(dir, err);
      }
    }
  }

  close(): void {
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
  }
}

// statfs f_type of file systems whose changes do not (reliably) raise inotify events.
const NO_EVENTS = new Map<number, string>([
  [0x6969, 'nfs'],
  [0x01021997, 'v9fs'],
  [0x6a656a63, 'virtiofs'],
  [0x65735546, 'fuse'],
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
  [0x517b, 'smb'],
  [0x564c, 'ncp'],
  [0x73757245, 'coda'],
  [0x47504653, 'gpfs'],
  [0x0bd00bd0, 'lustre'],
]);

/** For watcher=auto: the file system type name when `dir` is on one that gives no events. */
export async function eventlessFs(dir: string): Promise<string | undefined> {
  try {
    const s = await statfs(dir);
    return NO_EVENTS.get(Number(s.type) >>> 0);
  } catch {
    return undefined;
  }
}
