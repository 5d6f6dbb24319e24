/**
 * The numbered lines every delivery test writes and checks: line n is
 *
 *   `<prefix><n, 9 digits> <x...>`   lineBytes bytes with its newline (default 100)
 *
 * so a checker can tell a line that arrived intact from one that was altered (cut, or run into
 * another): see checker.ts. writer.ts writes them from a child process; these write them here.
 *
 *   appendFileSync(path, numberedText('L', 1, 1001));   // lines 1..1000
 *   assert.deepEqual(got, numbered('L', 1, 1001));
 */

export const LINE_BYTES = 100;

/** Line `n` without its newline. */
export function numberedLine(n: number, prefix = 'L', lineBytes = LINE_BYTES): string {
  return `${lineToken(n, prefix)} ${'x'.repeat(Math.max(0, lineBytes - prefix.length - 11))}`;
}

/** Lines [from, to), without newlines. */
export function numbered(prefix: string, from: number, to: number, lineBytes = LINE_BYTES): string[] {
  const out: string[] = [];
  for (let n = from; n < to; n++) out.push(numberedLine(n, prefix, lineBytes));
  return out;
}

/** Lines [from, to) as file content, each ending with `eol`. */
export function numberedText(prefix: string, from: number, to: number, lineBytes = LINE_BYTES, eol = '\n'): string {
  let s = '';
  for (let n = from; n < to; n++) s += numberedLine(n, prefix, lineBytes) + eol;
  return s;
}

/** What a line starts with up to its first space (`L000000042`): names the line in watchers. */
export function lineToken(n: number, prefix = 'L'): string {
  return `${prefix}${String(n).padStart(9, '0')}`;
}
