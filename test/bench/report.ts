/**
 * What the benchmarks write into docs/benchmarks.md: each bench owns one generated section between
 * `<!-- bench:<id> -->` and `<!-- /bench:<id> -->` and replaces only that, so several benches (and
 * the hand-written analysis around them) share the page. Plus the repeat statistics they report.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './agents.js';
import { SMOKE, size } from './smoke.js';

const DOC = join(ROOT, 'docs', 'benchmarks.md');

/** How many times a full run repeats each measurement (the machine is shared: report ranges). */
export const RUNS = Number(process.env.RUNS ?? size(3, 1));

/** The commit measured (`+dirty` when the work tree has changes), for the figures' provenance. */
export function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    // The page the benches write is not what they measure.
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!docs/benchmarks.md'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** One line: cores, CPU model, RAM, kernel, Node. */
export function machine(): string {
  let model = cpus()[0]?.model ?? 'cpu';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {}
  return `${cpus().length} × ${model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}`;
}

/** "Measured at <commit> on <date>: <machine>. Command: <command>." */
export function provenance(command: string): string {
  const env = ['RUNS', 'LINES'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]} `);
  return `Measured at commit \`${commit()}\` on ${new Date().toISOString().slice(0, 10)}, ${RUNS} run${RUNS > 1 ? 's' : ''} (median, range in brackets).
Machine: ${machine()}. Command: \`${env.join('')}${command}\`.`;
}

/** Replace the generated section `id` of docs/benchmarks.md (appended when missing); never in smoke mode. */
export function writeSection(id: string, markdown: string): void {
  if (SMOKE) return;
  const open = `<!-- bench:${id} -->`;
  const close = `<!-- /bench:${id} -->`;
  const block = `${open}\n${markdown.trim()}\n${close}`;
  const doc = readFileSync(DOC, 'utf8');
  const a = doc.indexOf(open);
  const b = doc.indexOf(close);
  writeFileSync(DOC, a >= 0 && b > a ? doc.slice(0, a) + block + doc.slice(b + close.length) : `${doc.trimEnd()}\n\n${block}\n`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : Number.NaN;
}

/** `median unit` or `median [min–max] unit` with `digits` decimals (unit: ' s', '×', ...). */
export function spread(xs: number[], digits = 2, unit = ''): string {
  const f = (x: number) => x.toFixed(digits);
  if (xs.length < 2) return `${f(xs[0] ?? Number.NaN)}${unit}`;
  return `${f(median(xs))} [${f(Math.min(...xs))}–${f(Math.max(...xs))}]${unit}`;
}

export const mib = (b: number) => b / 2 ** 20;
