/** Builds fake /proc and /sys/fs/cgroup trees in a temp dir (test helper, not a test). */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export class FakeRoot {
  readonly dir = mkdtempSync(join(tmpdir(), 'qlog-res-'));
  write(rel: string, text: string): void {
    const p = join(this.dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  path(rel = ''): string {
    return join(this.dir, rel);
  }
  rm(rel: string): void {
    rmSync(join(this.dir, rel), { recursive: true, force: true });
  }
  /** A /proc/<pid>/{stat,comm} pair. */
  proc(pid: number, comm: string, ticks: number, rssPages: number, start = 1000): void {
    const c = Buffer.from(comm).subarray(0, 15).toString();
    // fields 3..24: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice threads itreal starttime vsize rss
    const f = ['S', 1, pid, pid, 0, -1, 0, 0, 0, 0, 0, ticks - Math.floor(ticks / 3), Math.floor(ticks / 3), 0, 0, 20, 0, 1, 0, start, 1000000, rssPages];
    this.write(`${pid}/stat`, `${pid} (${c}) ${f.join(' ')} 0 0 0\n`);
    this.write(`${pid}/comm`, `${c}\n`);
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
