/** The writer's numbered lines, for cases that write synchronously from the test (same format as writer.mjs). */
export function numberedLines(first: number, count: number, prefix = 'L', lineBytes = 100): string {
  const pad = 'x'.repeat(Math.max(0, lineBytes - prefix.length - 11));
  let s = '';
  for (let n = first; n < first + count; n++) s += `${prefix}${String(n).padStart(9, '0')} ${pad}\n`;
  return s;
}
