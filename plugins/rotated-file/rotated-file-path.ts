/**
 * Path safety: whatever a tag or a template yields, the file stays inside the workspace.
 * Two steps: a cheap syntactic check of the rendered name (per record, cached), and a
 * filesystem walk when a file is opened (symlinks resolved, directories created one level at
 * a time so that `mkdir -p` can never follow a symlink out of the workspace).
 */
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
import { makeDir } from '../../core/make-dir.js';

/**
 * A record's file name is refused: its records are dropped (counted and logged), others continue.
 * Control flow inside this plugin, not a QlogError: it never leaves the plugin; its `reason`, like
 * relativeName's, goes into the plugin's "dropped N record(s)" warning, which has no error code.
 */
export class RefusedPath extends Error {
  override name = 'RefusedPath';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`file name ${JSON.stringify(file)} refused: ${reason}`);
  }
}

// eslint-disable-next-line no-control-regex
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters in file names is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_SEGMENT = 255;
const MAX_NAME = 4096;

/**
 * Normalise a rendered file name to a relative path (`a/b.log`), or return why it is refused:
 * empty, control characters, absolute, `..` segments. `.` and empty segments are dropped.
 */
export function relativeName(name: string): { rel: string } | { refused: string } {
  if (name.length === 0) return { refused: 'the file name is empty (the template rendered nothing)' };
  if (name.length > MAX_NAME) return { refused: `the file name is longer than ${MAX_NAME} characters` };
  if (CONTROL.test(name)) return { refused: 'the file name contains a control character' };
  if (name.startsWith('/')) return { refused: 'absolute paths are not allowed (file names are relative to the workspace)' };
  const segments: string[] = [];
  for (const s of name.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') return { refused: '".." would leave the workspace' };
    if (Buffer.byteLength(s) > MAX_SEGMENT) return { refused: `a path segment is longer than ${MAX_SEGMENT} bytes` };
    segments.push(s);
  }
  if (segments.length === 0) return { refused: 'the file name has no file part' };
  return { rel: segments.join('/') };
}

/** True when `p` is `root` or below it (both absolute, real paths). */
export function inside(p: string, root: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

export interface Confined {
  /** Real path of the directory the file is in. */
  dir: string;
  /** File name inside `dir`. */
  base: string;
  /** `${dir}/${base}`. */
  path: string;
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/**
 * Resolve `rel` inside the workspace (real path `root`), creating directories when `mkdir`.
 * Throws RefusedPath when the file would land outside `root` (or inside `forbidden`, the state
 * directory), and ordinary fs errors (EACCES, ENOSPC, ENOENT without mkdir ...) otherwise.
 */
export function confine(root: string, rel: string, mkdir: boolean, forbidden?: string): Confined {
  const parts = rel.split('/');
  const base = parts.pop()!;
  let cur = root;
  for (const seg of parts) {
    const next = join(cur, seg);
    let st;
    try {
      st = lstatSync(next);
    } catch (e) {
      if (code(e) !== 'ENOENT' || !mkdir) throw e;
      try {
        mkdirSync(next, { mode: 0o750 });
      } catch (e2) {
        if (code(e2) !== 'EEXIST') throw e2;
      }
      st = lstatSync(next);
    }
    if (st.isSymbolicLink()) {
      const real = realpathSync(next);
      if (!inside(real, root)) throw new RefusedPath(rel, `"${seg}" is a symlink leading outside the workspace (to ${real})`);
      cur = real;
    } else if (!st.isDirectory()) {
      throw new RefusedPath(rel, `"${next}" exists and is not a directory`);
    } else {
      cur = next;
    }
  }
  let path = join(cur, base);
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if (code(e) !== 'ENOENT') throw e;
  }
  if (st?.isSymbolicLink()) {
    let real: string;
    try {
      real = realpathSync(path);
    } catch (e) {
      // Opening a dangling symlink for append would create its target, wherever it is.
      if (code(e) === 'ENOENT' || code(e) === 'ELOOP') throw new RefusedPath(rel, 'the file is a symlink to a missing target');
      throw e;
    }
    if (!inside(real, root)) throw new RefusedPath(rel, `the file is a symlink leading outside the workspace (to ${real})`);
    path = real;
  } else if (st && !st.isFile()) {
    throw new RefusedPath(rel, `"${path}" exists and is not a regular file`);
  }
  if (forbidden && inside(path, forbidden)) throw new RefusedPath(rel, 'the file would be inside the state directory');
  const i = path.lastIndexOf(sep);
  return { dir: path.slice(0, i) || sep, base: path.slice(i + 1), path };
}

/** Real path of the workspace, created when `mkdir` (throws the fs error otherwise). */
export function workspaceRoot(workspace: string, mkdir: boolean): string {
  if (mkdir) makeDir(workspace, 0o750);
  const real = realpathSync(workspace);
  if (!lstatSync(real).isDirectory()) throw Object.assign(new Error(`workspace ${workspace} is not a directory`), { code: 'ENOTDIR' });
  return real;
}
