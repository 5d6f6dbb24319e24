/**
 * Looking for a known byte stream under another name in the same directory:
 *  - after a copytruncate, the copy (app.log.1) holds the bytes we had not read yet;
 *  - copies of generations we never saw (created and truncated between two of our looks) are
 *    the copies born since the last copy we know of;
 *  - after a restart, a file rotated away while we were stopped still holds its unread end.
 * Only names that share the file's stem are considered (app.log -> app.log.1, app.log-2024,
 * app-2024.log, app.1.log), so a large directory costs one readdir and a few stats.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { fileKey, HEAD_MAX } from './tail-file.js';

export interface Candidate {
  path: string;
  key: string;
  size: number;
  mtimeMs: number;
  /** Birth time (statx), 0 where the file system does not keep it. */
  bornMs: number;
  /** Inode number: orders copies born in the same timestamp tick (file times use a coarse clock). */
  ino: bigint;
}

/** What the names of a file's copies start with: `app` for `app.log` (app.log.1, app-2024.log). */
export function stemOf(path: string): string {
  return basename(path, extname(path)) || basename(path);
}

async function candidates(path: string, maxAgeMs: number): Promise<Candidate[]> {
  const dir = dirname(path);
  const base = basename(path);
  const stem = stemOf(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const now = Date.now();
  const out: Candidate[] = [];
  for (const name of names) {
    if (name === base || !name.startsWith(stem)) continue;
    const p = join(dir, name);
    try {
      const st = await stat(p, { bigint: true });
      if (!st.isFile()) continue;
      const mtimeMs = Number(st.mtimeMs);
      if (maxAgeMs > 0 && now - mtimeMs > maxAgeMs) continue;
      out.push({ path: p, key: fileKey(st), size: Number(st.size), mtimeMs, bornMs: Number(st.birthtimeMs), ino: st.ino });
    } catch {
      /* vanished */
    }
  }
  return out.sort((a, b) => b.mtimeMs - a.mtimeMs);
}

async function headOf(path: string, n: number): Promise<Buffer | undefined> {
  try {
    const fh = await open(path, 'r');
    try {
      const b = Buffer.alloc(n);
      const { bytesRead } = await fh.read(b, 0, n, 0);
      return b.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * The copy made by a copytruncate: a recent file next to `path` whose first `headLen` bytes
 * pass `isHead` and that is at least `minSize` bytes long (it holds everything we had read).
 */
export async function findCopy(
  path: string,
  headLen: number,
  isHead: (h: Buffer) => boolean,
  minSize: number,
  skip: (key: string) => boolean,
): Promise<Candidate | undefined> {
  if (headLen === 0) return undefined;
  for (const c of await candidates(path, 3_600_000)) {
    if (c.size < minSize || skip(c.key)) continue;
    const h = await headOf(c.path, Math.min(headLen, HEAD_MAX));
    if (h && h.length === headLen && isHead(h)) return c;
  }
  return undefined;
}

/** A file next to `path` (its name when we last saw it) with this device:inode. */
export async function findByKey(path: string, key: string): Promise<Candidate | undefined> {
  for (const c of await candidates(path, 0)) if (c.key === key) return c;
  return undefined;
}

/** First bytes of gzip, bzip2, xz, zstd, lz4 and zip files: compressed copies are not text to tail. */
const COMPRESSED = [
  Buffer.from([0x1f, 0x8b]),
  Buffer.from('BZh'),
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  Buffer.from([0x04, 0x22, 0x4d, 0x18]),
  Buffer.from([0x50, 0x4b, 0x03, 0x04]),
];

export function looksCompressed(head: Buffer): boolean {
  return COMPRESSED.some((m) => head.length >= m.length && head.subarray(0, m.length).equals(m));
}

/**
 * Copies of generations of `path` we never saw: files next to it, named like its copies
 * (`app.log.1`, `app.log-20240101`), born after `bornAfterMs` (the newest copy we know of),
 * not compressed, not empty, not `skip`ped (followed already, or matched by the tail's own
 * patterns) and not starting like the file's current content (a copy made just before a
 * truncation still to come: that one is found by its head when the truncation is seen).
 * Oldest first. None where the file system has no birth times (the order would be a guess).
 */
export async function findUnseen(path: string, bornAfterMs: number, liveHead: Buffer, skip: (c: Candidate) => boolean): Promise<Candidate[]> {
  const base = basename(path);
  const out: Candidate[] = [];
  for (const c of await candidates(path, 3_600_000)) {
    if (c.bornMs <= 0) return [];
    const name = basename(c.path);
    if (c.bornMs <= bornAfterMs || c.size === 0 || !name.startsWith(base) || !'.-_'.includes(name[base.length] ?? '') || skip(c)) continue;
    const h = await headOf(c.path, HEAD_MAX);
    if (!h || h.length === 0 || looksCompressed(h)) continue;
    const n = Math.min(h.length, liveHead.length);
    if (n > 0 && h.subarray(0, n).equals(liveHead.subarray(0, n))) continue;
    out.push(c);
  }
  return out.sort(byBirth);
}

/** Oldest first; copies born in the same tick (two rotations within a few ms) by inode number, which grows as files are created. */
function byBirth(a: Candidate, b: Candidate): number {
  return a.bornMs - b.bornMs || (a.ino < b.ino ? -1 : a.ino > b.ino ? 1 : 0);
}
