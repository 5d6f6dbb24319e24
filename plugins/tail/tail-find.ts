/**
 * Looking for a known byte stream under another name in the same directory:
 *  - after a copytruncate, the copy (app.log.1) holds the bytes we had not read yet;
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
}

async function candidates(path: string, maxAgeMs: number): Promise<Candidate[]> {
  const dir = dirname(path);
  const base = basename(path);
  const stem = basename(path, extname(path)) || base;
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
      out.push({ path: p, key: fileKey(st), size: Number(st.size), mtimeMs });
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
export async function findCopy(path: string, headLen: number, isHead: (h: Buffer) => boolean, minSize: number, skip: (key: string) => boolean): Promise<Candidate | undefined> {
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
