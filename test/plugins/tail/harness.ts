/**
 * Test harness for the tail follower without the qlog engine: a sink that records chunks,
 * settles them (at once, or when told) and can report "downstream full".
 */
import { copyFileSync, existsSync, renameSync, truncateSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { blockRecord, type LineBlock, type LogRecord } from '../../../core/record.js';
import { Follower, type FollowerOptions, type FollowerSink } from '../../../plugins/tail/tail-follower.js';
import { compilePaths } from '../../../plugins/tail/tail-scan.js';
import { lineToken } from '../../helpers/lines.js';
import { waitFor } from '../../helpers/wait.js';

export interface Emitted {
  tag: string;
  records: LogRecord[];
  bytes: number;
  settle: () => void;
  settled: boolean;
}

export class FakeSink implements FollowerSink {
  readonly chunks: Emitted[] = [];
  readonly counters = new Map<string, number>();
  readonly logs: { level: string; obj: object; msg: string }[] = [];
  /** Settle every chunk as soon as it is emitted. */
  autoSettle = true;
  /** emit() returns false while set; ready() waits for release(). */
  full = false;
  /** Become full after this many more chunks (for "blocked mid-file" scenarios). */
  fullAfter = Infinity;
  private waiters: (() => void)[] = [];
  private readonly all: LogRecord[] = [];
  private readonly bodies: string[] = [];

  readonly log = {
    debug: (obj: object, msg: string) => this.logs.push({ level: 'debug', obj, msg }),
    info: (obj: object, msg: string) => this.logs.push({ level: 'info', obj, msg }),
    warn: (obj: object, msg: string) => this.logs.push({ level: 'warn', obj, msg }),
    error: (obj: object, msg: string) => this.logs.push({ level: 'error', obj, msg }),
  };

  /** The follower's output: a block of lines, turned into records as the engine would. */
  emitLines(tag: string, block: LineBlock, bytes: number, onSettled: () => void): boolean {
    const records: LogRecord[] = [];
    for (let i = 0; i < block.count; i++) records.push(blockRecord(block, i, tag));
    return this.emit(tag, records, bytes, onSettled);
  }

  /** Joined records (the multiline option). */
  emitRecords(tag: string, records: LogRecord[], bytes: number, onSettled: () => void): boolean {
    return this.emit(tag, records, bytes, onSettled);
  }

  emit(tag: string, records: LogRecord[], bytes: number, onSettled: () => void): boolean {
    const c: Emitted = { tag, records, bytes, settled: false, settle: () => {} };
    c.settle = () => {
      if (c.settled) return;
      c.settled = true;
      onSettled();
    };
    this.chunks.push(c);
    for (const r of records) {
      this.all.push(r);
      this.bodies.push(r.body as string);
    }
    if (this.autoSettle) setImmediate(c.settle);
    if (--this.fullAfter <= 0) this.full = true;
    return !this.full;
  }

  /** Every chunk emitted so far was settled (its offset can be committed). */
  allSettled(): boolean {
    return this.chunks.every((c) => c.settled);
  }

  ready(): Promise<void> {
    return this.full ? new Promise((r) => this.waiters.push(r)) : Promise.resolve();
  }

  release(): void {
    this.full = false;
    this.fullAfter = Infinity;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  count(name: string, n = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  c(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  /** Every record emitted so far, in order (a live array: do not modify). */
  records(): readonly LogRecord[] {
    return this.all;
  }

  /** Bodies of every record emitted so far (a live array). */
  lines(): readonly string[] {
    return this.bodies;
  }

  settleAll(): void {
    for (const c of this.chunks) c.settle();
  }
}

/** Followers made in a temp dir, closed before the dir is removed (their state is written at close). */
const owned = new Map<string, Follower[]>();

export async function tempDir(t: TestContext, prefix = 'qlog-tail-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  owned.set(dir, []);
  t.after(async () => {
    for (const f of owned.get(dir) ?? []) await f.close();
    owned.delete(dir);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  return dir;
}

export function follower(dir: string, sink: FollowerSink, o: Partial<FollowerOptions> & { path?: string | string[]; exclude?: string } = {}): Follower {
  const { path, exclude, ...rest } = o;
  const f = new Follower(
    {
      paths: compilePaths(path ?? join(dir, '*.log'), exclude ?? [], dir),
      tag: 'test.*',
      readFromHead: true,
      rotateWaitMs: 200,
      refreshMs: 200,
      readSize: 64 * 1024,
      maxLine: 16 * 1024,
      ignoreOlderMs: 0,
      watcher: 'inotify',
      pollMs: 50,
      pathKey: '',
      statePath: join(dir, 'offsets.json'),
      stateIntervalMs: 50,
      ...rest,
    },
    sink,
  );
  owned.get(dir)?.push(f);
  return f;
}

/**
 * Wait for a numbered line (test/helpers/lines.ts) to have come out: seen(123) resolves once a
 * line starting with "L000000123 " is in lines() (scanned incrementally, so it is cheap to call often).
 */
export function lineWatcher(lines: () => readonly string[], prefix = 'L', timeoutMs = 20_000): (n: number) => Promise<void> {
  const seen = new Set<string>();
  let i = 0;
  return async (n) => {
    const token = lineToken(n, prefix);
    await waitFor(
      () => {
        const l = lines();
        for (; i < l.length; i++) seen.add(l[i]!.slice(0, l[i]!.indexOf(' ')));
        return seen.has(token);
      },
      { what: `line ${token}`, timeoutMs },
    );
  };
}

/** Assert `got` holds exactly the lines of `want` (no loss, no repeat); returns the missing/extra for messages. */
export function diff(got: readonly string[], want: readonly string[]): { missing: string[]; extra: string[]; dup: string[] } {
  const counts = new Map<string, number>();
  for (const g of got) counts.set(g, (counts.get(g) ?? 0) + 1);
  const missing: string[] = [];
  for (const w of want) {
    const n = counts.get(w) ?? 0;
    if (n === 0) missing.push(w);
    else counts.set(w, n - 1);
  }
  const extra: string[] = [];
  const dup: string[] = [];
  const wantSet = new Set(want);
  for (const [k, n] of counts) for (let i = 0; i < n; i++) (wantSet.has(k) ? dup : extra).push(k);
  return { missing, extra, dup };
}

export function sameLines(got: readonly string[], want: readonly string[]): string | undefined {
  const d = diff(got, want);
  if (!d.missing.length && !d.extra.length && !d.dup.length) return undefined;
  const s = (a: string[]) => `${a.length} ${JSON.stringify(a.slice(0, 3))}`;
  return `got ${got.length} lines, want ${want.length}; missing ${s(d.missing)}, extra ${s(d.extra)}, duplicated ${s(d.dup)}`;
}

/**
 * The common set-up: a temp dir with `app.log` (created with `content` unless it is null), a
 * FakeSink (adjusted by `prepare` before the start) and a started follower on that one path
 * (or on `pattern(path)`, e.g. `app.log*`).
 */
export async function followApp(
  t: TestContext,
  o: Partial<FollowerOptions> & { pattern?: (path: string) => string } = {},
  content: string | null = '',
  prepare?: (sink: FakeSink) => void,
): Promise<{ dir: string; path: string; sink: FakeSink; f: Follower }> {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  if (content !== null) await writeFile(path, content);
  const sink = new FakeSink();
  prepare?.(sink);
  const { pattern, ...rest } = o;
  const f = follower(dir, sink, { path: pattern ? pattern(path) : path, ...rest });
  await f.start();
  return { dir, path, sink, f };
}

/** Lines as file content, each ended by a newline. */
export const text = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');

/** logrotate's numbering: app.log.1 -> app.log.2 ... (keeping `keep`), so that app.log.1 is free. */
export function shiftRotated(path: string, keep = 5): void {
  for (let i = keep - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
}

/** logrotate-style copytruncate keeping `keep` copies: app.log.1 is the newest. */
export function copytruncate(path: string, keep = 5): void {
  shiftRotated(path, keep);
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
}
