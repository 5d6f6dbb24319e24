#!/usr/bin/env node
// Fault-suite writer: appends numbered lines to a file at a steady rate, optionally rotating it.
// Usage: node writer.mjs '<json options>'
//   file, rate (lines/s), total (lines), lineBytes (approx, default 100), prefix (default "L"),
//   mode: none | rename | copytruncate, every (ms between rotations), keep (rotated files or copies kept, default 5),
//   startAt (first sequence number, default 1)
// Each line: `<prefix><seq, 9 digits> <payload>\n` (lineBytes bytes in all). Prints one JSON line at the end:
// {"written": n, "first": a, "last": b, "rotations": [s1, s2 ...]} where s_i is the first line written after rotation i
// (so a generation of the file is [s_i, s_i+1 - 1]).
import { appendFileSync, copyFileSync, existsSync, renameSync, truncateSync, openSync, closeSync } from 'node:fs';

const o = { rate: 1000, total: 1000, lineBytes: 100, prefix: 'L', mode: 'none', every: 200, keep: 5, startAt: 1, ...JSON.parse(process.argv[2]) };
const pad = 'x'.repeat(Math.max(0, o.lineBytes - o.prefix.length - 11));
const line = (n) => `${o.prefix}${String(n).padStart(9, '0')} ${pad}\n`;
let seq = o.startAt;
const end = o.startAt + o.total;
const t0 = performance.now();
let lastRotate = t0;
const rotations = [];

function rotate() {
  rotations.push(seq);
  if (o.mode === 'rename') {
    for (let i = o.keep - 1; i >= 1; i--) if (existsSync(`${o.file}.${i}`)) renameSync(`${o.file}.${i}`, `${o.file}.${i + 1}`);
    if (existsSync(o.file)) renameSync(o.file, `${o.file}.1`);
    closeSync(openSync(o.file, 'a'));
  } else if (o.mode === 'copytruncate') {
    if (existsSync(o.file)) {
      for (let i = o.keep - 1; i >= 1; i--) if (existsSync(`${o.file}.${i}`)) renameSync(`${o.file}.${i}`, `${o.file}.${i + 1}`);
      copyFileSync(o.file, `${o.file}.1`);
      truncateSync(o.file, 0);
    }
  }
}

function tick() {
  const now = performance.now();
  const due = Math.min(end, o.startAt + Math.floor(((now - t0) / 1000) * o.rate));
  if (due > seq) {
    let s = '';
    for (; seq < due; seq++) s += line(seq);
    appendFileSync(o.file, s);
  }
  if (o.mode !== 'none' && now - lastRotate >= o.every && seq < end) {
    lastRotate = now;
    rotate();
  }
  if (seq < end) setTimeout(tick, 5);
  else process.stdout.write(JSON.stringify({ written: o.total, first: o.startAt, last: end - 1, rotations }) + '\n');
}
if (o.total > 0) tick();
else process.stdout.write(JSON.stringify({ written: 0, rotations }) + '\n');
