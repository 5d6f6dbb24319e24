/**
 * Crash recovery of one output file, before its stream is (re)opened: make the files agree with
 * the delivery state. Bytes past the recorded size were written but never acknowledged: they are
 * cut (the sender resends them). A rotation interrupted by a crash is told from a finished one by
 * the live file's inode.
 */
import { closeSync, fstatSync, ftruncateSync, lstatSync, openSync, unlinkSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Counters } from '../../core/index.js';
import type { FileState } from './rotated-file-state.js';

export interface RecoveryContext {
  path: string;
  rel: string;
  compress: boolean;
  log: Logger;
  counters: Counters;
  rotatedName(n: number): string;
}

function inode(path: string): number | null {
  try {
    return lstatSync(path).ino;
  } catch {
    return null;
  }
}

/** Truncate the live file (if it is still inode `ino`) to `size`; `from` is its size before. */
export function cutFile(c: RecoveryContext, ino: number, size: number, from: number): void {
  const fd = openSync(c.path, 'r+');
  try {
    if (fstatSync(fd).ino !== ino) return;
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
  c.counters.add('unacked_bytes_cut', from - size);
  c.log.info({ file: c.path, from, to: size }, `${c.path}: cut ${from - size} bytes written but never acknowledged (they will be sent again)`);
}

/** Bring `s` and the files in line (mutates `s`); returns true when `s` changed and must be saved. */
export function reconcile(s: FileState, c: RecoveryContext): boolean {
  let live;
  try {
    live = lstatSync(c.path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let changed = false;
  if (s.rotating) {
    // A live file shorter than recorded cannot be the intact pre-rotation file: the rotation
    // finished and the new file reused the old inode number (freed when the compressed copy's
    // source was unlinked). Taking it for an interrupted rotation would delete a complete .1.gz.
    if (!live || live.ino !== s.rotating.ino || live.size < s.size) {
      // The rotation finished: the live file holds only bytes written after it, never recorded.
      if (live && live.size > 0) cutFile(c, live.ino, 0, live.size);
      s.ino = live?.ino ?? null;
      s.size = 0;
      delete s.rotating;
      return true;
    }
    // Interrupted before the rename: the live file is intact. A .1.gz that is not the one seen
    // before the rotation is a partial compressed copy: remove it (the rotation runs again).
    const first = c.rotatedName(1);
    const ino = inode(first);
    if (c.compress && ino !== null && ino !== s.rotating.first) {
      unlinkSync(first);
      c.log.info(`${c.rel}: removed ${first}, left incomplete by an interrupted rotation`);
    }
    delete s.rotating;
    changed = true;
  }
  if (!live) {
    if (s.ino !== null && s.size > 0) c.log.warn(`${c.rel}: ${c.path} is gone (removed by another program?); starting a new file`);
    if (s.ino !== null || s.size !== 0) changed = true;
    s.ino = null;
    s.size = 0;
  } else if (s.ino === null || live.ino !== s.ino) {
    if (s.ino !== null) c.log.warn(`${c.rel}: ${c.path} was replaced by another program; appending to the new file`);
    s.ino = live.ino;
    s.size = live.size;
    changed = true;
  } else if (live.size > s.size) {
    cutFile(c, live.ino, s.size, live.size);
  } else if (live.size < s.size) {
    c.log.warn(`${c.rel}: ${c.path} is shorter than recorded (${live.size} < ${s.size} bytes): truncated by another program?`);
    s.size = live.size;
    changed = true;
  }
  return changed;
}
