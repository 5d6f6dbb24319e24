/**
 * The line writer's child process (started by writer.ts, which documents the options): appends
 * numbered lines (lines.ts) to a file, paced, optionally rotating it like logrotate, so that a
 * reader reads while it writes. Prints one JSON line at the end: the WriterSummary.
 */
import { appendFileSync, closeSync, copyFileSync, existsSync, openSync, renameSync, truncateSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { numberedLine } from './lines.js';
import type { WriterOptions, WriterSummary } from './writer.js';

const o = JSON.parse(process.argv[2]!) as WriterOptions & { handshake?: boolean };
const { path, first = 1, total, prefix = 'L', lineBytes, crlf = false, mode = 'none', everyMs = 200, keep = 5, lateWrites = 0, afterRotateMs = 0 } = o;
const eol = crlf ? '\r\n' : '\n';
const line = (n: number) => numberedLine(n, prefix, lineBytes) + eol;
const end = first + total;
const rotations: number[] = [];
let seq = first;

/** Shift <path>.1..<keep-1> up by one; <keep> is overwritten (logrotate's rotate N). */
function shift(): void {
  for (let i = keep - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
}

/**
 * Rotate before line `seq`: rename (the application has not reopened yet: `lateWrites` more
 * lines land in the old file), then create the file; or copy, then truncate in place.
 * Every write appends (O_APPEND), as a logging application does.
 */
function rotate(): void {
  if (mode === 'rename') {
    shift();
    if (existsSync(path)) {
      renameSync(path, `${path}.1`);
      let late = '';
      for (let k = 0; k < lateWrites && seq < end; k++) late += line(seq++);
      if (late) appendFileSync(`${path}.1`, late);
    }
    closeSync(openSync(path, 'a'));
  } else if (mode === 'copytruncate' && existsSync(path)) {
    shift();
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
  }
  rotations.push(seq);
}

/** Before a rotation, when the test asked for it: tell it the current file's first line, wait for its go. */
async function beforeRotate(fileFirst: number): Promise<void> {
  if (!o.handshake) return;
  process.send!({ first: fileFirst });
  await new Promise((r) => process.once('message', r));
}

/** `rate` lines per second, written every 5 ms; a rotation every `everyMs`. */
async function paced(rate: number): Promise<void> {
  const t0 = performance.now();
  let lastRotate = t0;
  while (seq < end) {
    const now = performance.now();
    const due = Math.min(end, first + Math.floor(((now - t0) / 1000) * rate));
    let s = '';
    for (; seq < due; seq++) s += line(seq);
    if (s) appendFileSync(path, s);
    if (mode !== 'none' && now - lastRotate >= everyMs && seq < end) {
      lastRotate = now;
      await beforeRotate(rotations.at(-1) ?? first);
      rotate();
    }
    if (seq < end) await sleep(5);
  }
}

/** As fast as possible: `batch` lines a write, a 1 ms pause every `sleepEvery` writes; a rotation every `everyLines`. */
async function burst(batch: number, sleepEvery: number): Promise<void> {
  let buf = '';
  let writes = 0;
  let fileFirst = first;
  const flush = () => {
    if (buf) appendFileSync(path, buf);
    buf = '';
  };
  while (seq < end) {
    buf += line(seq++);
    if ((seq - first) % batch === 0) {
      flush();
      if (++writes % sleepEvery === 0) await sleep(1);
    }
    if (mode !== 'none' && o.everyLines && (seq - first) % o.everyLines === 0 && seq < end) {
      flush();
      await beforeRotate(fileFirst);
      rotate();
      // Real programs rotate every few MB or hours, not every few ms: give the reader time to
      // notice the new file before it is rotated away too (a file created and rotated away
      // between two checks is never seen, by any path-based tailer).
      if (afterRotateMs) await sleep(afterRotateMs);
      fileFirst = seq;
    }
  }
  flush();
}

if (o.rate) await paced(o.rate);
else await burst(o.batch ?? 50, o.sleepEvery ?? 20);
const summary: WriterSummary = { written: seq - first, first, last: seq - 1, rotations };
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.disconnect?.();
