/**
 * The agent's own log (pino). stderr by default; with service.log_file, a size-rotated file
 * behind a batching, bounded writer: a full disk drops log lines (counted) instead of blocking
 * or growing memory, and the file is reopened once the disk has room again.
 */
import { Writable } from 'node:stream';
import { basename, dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import type { RotatingFileStream } from 'rotating-file-stream';
import { lazyModule } from './lazy.js';
import { makeDir } from './make-dir.js';

const rfs = lazyModule<typeof import('rotating-file-stream')>('rotating-file-stream');

export interface LogOptions {
  level: string;
  file?: string;
  rotateSize?: number;
  rotateNum?: number;
  /**
   * With a log file: also print warnings and errors on stderr (the agent sets it when stderr is a
   * terminal: someone is watching, and "cannot connect" must not hide in a file).
   */
  mirrorWarnings?: boolean;
}

const LEVEL_NAMES: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

/** warn+ lines of the JSON log as `qlog: warn: <msg>` on stderr. */
function terminalMirror(): { write(line: string): void } {
  return {
    write(line: string) {
      try {
        const o = JSON.parse(line) as { level?: number; msg?: string };
        process.stderr.write(`qlog: ${LEVEL_NAMES[o.level ?? 0] ?? 'log'}: ${o.msg ?? ''}\n`);
      } catch {
        process.stderr.write(line);
      }
    },
  };
}

const MAX_PENDING = 4 * 1024 * 1024;
/** How long closing waits for pending lines to reach the file. */
const FINAL_WAIT_MS = 2000;

/** Batching writer in front of rotating-file-stream (per-line writes to it are ~40x slower). */
class RotatedLogWriter extends Writable {
  private stream?: RotatingFileStream;
  private pending: string[] = [];
  private pendingBytes = 0;
  private writing = false;
  private brokenUntil = 0;
  dropped = 0;
  constructor(private readonly opts: Required<Pick<LogOptions, 'file' | 'rotateSize' | 'rotateNum'>>) {
    super({ decodeStrings: false });
  }

  private open(): RotatingFileStream {
    makeDir(dirname(this.opts.file));
    const s = rfs().createStream(basename(this.opts.file), {
      path: dirname(this.opts.file),
      size: `${Math.max(1, Math.ceil(this.opts.rotateSize / 1024))}K`,
      rotate: this.opts.rotateNum,
    });
    s.on('error', () => {
      // rotating-file-stream destroys itself on errors (ENOSPC ...): drop it, retry later.
      if (this.stream === s) this.stream = undefined;
      this.brokenUntil = Date.now() + 5000;
    });
    return s;
  }

  override _write(chunk: string | Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const line = typeof chunk === 'string' ? chunk : chunk.toString();
    if (this.pendingBytes + line.length > MAX_PENDING) this.dropped++;
    else {
      this.pending.push(line);
      this.pendingBytes += line.length;
    }
    this.flush();
    cb();
  }

  private flush(): void {
    if (this.writing || !this.pending.length) return;
    if (!this.stream) {
      if (Date.now() < this.brokenUntil) return void setTimeout(() => this.flush(), 1000).unref();
      try {
        this.stream = this.open();
      } catch {
        this.brokenUntil = Date.now() + 5000;
        return void setTimeout(() => this.flush(), 1000).unref();
      }
    }
    const data = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = true;
    this.stream.write(data, () => {
      this.writing = false;
      this.flush();
    });
  }

  override _final(cb: () => void): void {
    const end = (): void => {
      if (this.stream) this.stream.end(cb);
      else cb();
    };
    if (!this.writing && !this.pending.length) return end();
    // Wait for what is pending, but not for a file that cannot be opened (a log directory that
    // cannot be created): closing must end, or the agent would never exit.
    const giveUp = Date.now() + FINAL_WAIT_MS;
    const t = setInterval(() => {
      if ((!this.writing && !this.pending.length) || Date.now() >= giveUp) {
        clearInterval(t);
        this.dropped += this.pending.length;
        this.pending = [];
        end();
      }
    }, 10);
  }
}

export interface AgentLog {
  logger: Logger;
  close(): Promise<void>;
}

export function createLogger(opts: LogOptions): AgentLog {
  const level = opts.level === 'off' ? 'silent' : opts.level;
  if (!opts.file) {
    const logger = pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
    return { logger, close: async () => undefined };
  }
  const writer = new RotatedLogWriter({ file: opts.file, rotateSize: opts.rotateSize ?? 10_000_000, rotateNum: opts.rotateNum ?? 5 });
  const dest = opts.mirrorWarnings
    ? pino.multistream([
        { level: 'trace', stream: writer },
        { level: 'warn', stream: terminalMirror() },
      ])
    : writer;
  const logger = pino({ level, base: { pid: process.pid } }, dest);
  return {
    logger,
    close: () => new Promise<void>((r) => writer.end(() => r())),
  };
}
