/**
 * Which paths tail follows: `path` glob patterns minus `exclude_path`, resolved against the
 * config directory. Globbing (tinyglobby) runs on start and every refresh_interval; single
 * names reported by directory watches are checked with the compiled matchers (picomatch)
 * without touching the file system.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';

export interface Pattern {
  /** Absolute pattern. */
  readonly pattern: string;
  /** Longest directory without glob characters (watched for new files). */
  readonly base: string;
  /** Pattern relative to base ('' for a plain path). */
  readonly rest: string;
}

export interface PathSet {
  readonly patterns: readonly Pattern[];
  /** Directories to watch for new matching names. */
  readonly baseDirs: readonly string[];
  /** Is this absolute path followed (matches a pattern, not excluded)? */
  matches(path: string): boolean;
  /** Current matching files (sorted, absolute). */
  scan(): Promise<string[]>;
}

/** Split a Fluent Bit style comma list ("a.log,b/*.log"), keeping commas inside {braces}. */
export function splitList(v: string | readonly string[]): string[] {
  const items = typeof v === 'string' ? [v] : v;
  const out: string[] = [];
  for (const item of items) {
    let depth = 0;
    let cur = '';
    for (const ch of item) {
      if (ch === '{') depth++;
      else if (ch === '}') depth = Math.max(0, depth - 1);
      if (ch === ',' && depth === 0) {
        if (cur.trim()) out.push(cur.trim());
        cur = '';
      } else cur += ch;
    }
    if (cur.trim()) out.push(cur.trim());
  }
  return out;
}

export function compilePaths(path: string | readonly string[], exclude: string | readonly string[], cwd: string): PathSet {
  const patterns: Pattern[] = splitList(path).map((p) => {
    const abs = isAbsolute(p) ? p : resolve(cwd, p);
    const s = picomatch.scan(abs);
    return s.isGlob ? { pattern: abs, base: s.base || '/', rest: s.glob } : { pattern: abs, base: dirname(abs), rest: '' };
  });
  const include = picomatch(
    patterns.map((p) => p.pattern),
    { dot: false },
  );
  // Fluent Bit matches exclude_path with fnmatch on the whole path, where '*' crosses '/':
  // a pattern without '/' ("*.gz") is matched against the base name, others as paths.
  const ex = splitList(exclude);
  const exBase = ex.filter((e) => !e.includes('/'));
  const exPath = ex.filter((e) => e.includes('/')).map((e) => (isAbsolute(e) ? e : resolve(cwd, e)));
  const isExBase = exBase.length ? picomatch(exBase, { dot: true, basename: true }) : () => false;
  const isExPath = exPath.length ? picomatch(exPath, { dot: true }) : () => false;
  const excluded = (p: string): boolean => isExBase(p) || isExPath(p);
  const baseDirs = [...new Set(patterns.map((p) => (p.rest === '' ? dirname(p.pattern) : p.base)))];

  return {
    patterns,
    baseDirs,
    matches: (p) => include(p) && !excluded(p),
    async scan() {
      const found = new Set<string>();
      for (const p of patterns) {
        if (p.rest === '') {
          if (!excluded(p.pattern)) found.add(p.pattern);
          continue;
        }
        const hits = await glob(p.rest, { cwd: p.base, absolute: true, onlyFiles: true, dot: false, expandDirectories: false, followSymbolicLinks: true });
        for (const h of hits) if (!excluded(h)) found.add(h);
      }
      return [...found].sort();
    },
  };
}

/** Fluent Bit tag expansion: each '*' becomes the path with '/' turned into '.', leading dot removed. */
export function expandTag(tag: string, path: string): string {
  if (!tag.includes('*')) return tag;
  const p = path.replace(/\//g, '.').replace(/^\.+/, '');
  return tag.split('*').join(p);
}
