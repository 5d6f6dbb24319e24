/**
 * Temp directories and config files for tests.
 *
 *   const dir = tempDir(t);                       // removed after the test (t.after)
 *   const file = writeConfig(dir, 'a.yaml', `pipeline: ...`);   // absolute path
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Anything with node:test's `after` (a TestContext, or the `after` import wrapped). */
export interface HasAfter {
  after(fn: () => void): void;
}

/** A fresh directory under os.tmpdir(), removed when the test (or suite) `owner` ends. */
export function tempDir(owner?: HasAfter, prefix = 'qlog-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  owner?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Write `text` to `dir/name` (a leading newline is removed, so template literals can start on a new line). */
export function writeConfig(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text.replace(/^\n/, ''));
  return file;
}
