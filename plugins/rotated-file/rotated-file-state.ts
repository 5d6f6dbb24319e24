/**
 * Delivery state of one output file, kept in the state directory and replaced atomically
 * (write a temp file, rename it over the old one; with fsync, sync the temp file and the
 * directory too). It records what the file holds:
 *  - `ino` + `size`: the live file and its length after the last acknowledged write. After a
 *    crash, bytes past `size` were written but never acknowledged: they are cut off before
 *    writing again, and the sender (which never got the ack) sends them again.
 *  - `hw`: per source (meta.src), the highest meta.seq written. A record at or below its
 *    source's mark is a duplicate resent after a restart of either side: it is skipped.
 *  - `rotating`: set just before the live file is renamed to <file>.1, cleared once the new
 *    live file is open; lets a restart tell "rotation finished" from "rotation interrupted".
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Sources remembered per file; the least recently written are forgotten beyond this. */
export const MAX_SOURCES = 1024;

export interface FileState {
  /** Inode of the live file `size` refers to (null: no file yet). */
  ino: number | null;
  /** Bytes of the live file covered by acknowledged writes. */
  size: number;
  /** Present while a rotation is under way: the live file's inode and that of <file>.1 before it. */
  rotating?: { ino: number | null; first: number | null };
  /** Per source: highest seq written. Map order = least recently written first. */
  hw: Map<string, number>;
}

interface StateJson {
  v: 1;
  file: string;
  ino: number | null;
  size: number;
  rotating?: { ino: number | null; first: number | null };
  hw: [string, number][];
}

export function emptyState(): FileState {
  return { ino: null, size: 0, hw: new Map() };
}

/** Read a state file; a missing file gives an empty state, a corrupt one throws. */
export function readState(path: string): FileState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw e;
  }
  const j = JSON.parse(text) as StateJson;
  if (j?.v !== 1 || typeof j.size !== 'number' || !Array.isArray(j.hw)) throw new Error(`unrecognised state file ${path}`);
  const s: FileState = {
    ino: typeof j.ino === 'number' ? j.ino : null,
    size: j.size,
    hw: new Map(j.hw.filter((e) => typeof e?.[0] === 'string' && typeof e[1] === 'number')),
  };
  if (j.rotating) s.rotating = { ino: j.rotating.ino ?? null, first: j.rotating.first ?? null };
  return s;
}

/** Merge a part's marks into the state, moving touched sources to the end and forgetting the oldest. */
export function mergeMarks(s: FileState, marks: Map<string, number>): void {
  for (const [src, seq] of marks) {
    const old = s.hw.get(src);
    s.hw.delete(src);
    s.hw.set(src, old === undefined || seq > old ? seq : old);
  }
  if (s.hw.size > MAX_SOURCES) {
    let n = s.hw.size - MAX_SOURCES;
    for (const k of s.hw.keys()) {
      if (n-- <= 0) break;
      s.hw.delete(k);
    }
  }
}

function serialise(s: FileState, file: string): string {
  const j: StateJson = { v: 1, file, ino: s.ino, size: s.size, hw: [...s.hw] };
  if (s.rotating) j.rotating = s.rotating;
  return JSON.stringify(j);
}

let tmpSeq = 0;
const tmpName = (path: string) => `${path}.tmp-${process.pid}-${tmpSeq++}`;

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Atomic replace, synchronously (used inside rotation events, which cannot be awaited). */
export function saveStateSync(path: string, s: FileState, file: string, durable: boolean): void {
  const tmp = tmpName(path);
  const data = serialise(s, file);
  if (!durable) {
    writeFileSync(tmp, data);
  } else {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  renameSync(tmp, path);
  if (durable) syncDir(dirname(path));
}

/**
 * Atomic replace after each write (the normal path). Not durable, it is the synchronous one: a
 * small write and a rename (~0.1 ms) cost less than the four thread-pool round trips of the
 * asynchronous calls, which made 1.5-3 ms of every chunk's ack latency at full speed (the sender
 * waits for that ack). With fsync it runs on the thread pool: a sync may take long.
 */
export async function saveState(path: string, s: FileState, file: string, durable: boolean): Promise<void> {
  if (!durable) return saveStateSync(path, s, file, false);
  const tmp = tmpName(path);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(serialise(s, file));
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  if (durable) {
    const d = await open(dirname(path), 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}
