/**
 * mkdir -p that always ends. Node's `mkdirSync(p, { recursive: true })` loops forever at full CPU
 * where the kernel answers ENOENT for a directory it will never create (under /proc, for one: seen
 * with node 20), so a workspace or state_dir there hung the agent's start. This walks up one path
 * segment at a time, at most once per segment, and turns every failure into an error that names
 * the directory and the reason.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Create `dir` and its missing parents. Throws the first real error (ENOTDIR, EACCES, ENOENT ...). */
export function makeDir(dir: string, mode?: number): void {
  const target = resolve(dir);
  // Walk up to the deepest existing ancestor, then create downwards: each mkdir runs once.
  const missing: string[] = [];
  let p = target;
  while (!isDir(p)) {
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]!, mode === undefined ? undefined : { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A racing process made it meanwhile: fine, as long as it is a directory.
      if (isDir(missing[i]!)) continue;
      const err: NodeJS.ErrnoException = new Error(`ENOTDIR: cannot create directory ${target}: ${missing[i]} exists and is not a directory`);
      err.code = 'ENOTDIR';
      err.path = missing[i];
      throw err;
    }
  }
}
