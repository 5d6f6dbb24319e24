/**
 * Committed read offsets, persisted in the instance's state file as JSON.
 *
 * The file only ever holds offsets of settled data (the follower calls set() from onSettled).
 * Writes are atomic (temp file, fdatasync, rename) and coalesced: at most one per interval,
 * plus saveSync() on stop and after stop.
 */
import { closeSync, fdatasyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';

export interface FileEntry {
  /** Path the file was last seen at (used to find it again after a rotation while stopped). */
  path: string;
  dev: string;
  ino: string;
  /** Fingerprint: sha256 (hex, 32 chars) of the first fpLen bytes. */
  fpLen: number;
  fp: string;
  /** Id of the byte stream, meta.src without the generation (see tail-file.ts). */
  sid: string;
  /**
   * false: the sid was derived before the first line was known and no record left under it
   * (derived again at resume). Absent in state files written before sids were derived from
   * the file: their (random) sid is kept.
   */
  sidFixed?: boolean;
  /**
   * When a start first found no file for this entry (no pattern matched it, or it was not
   * where it was): the entry is kept, so a run with a wrong `path` forgets nothing, and expires
   * offsets_expire after this. Absent while the file is followed.
   */
  lost?: number;
  /** Truncation generation. */
  gen: number;
  /** Committed offset: every byte before it is settled downstream. */
  offset: number;
}

interface StateFile {
  version: 1;
  savedAt: number;
  files: Record<string, FileEntry>;
}

export class OffsetDb {
  readonly entries = new Map<string, FileEntry>();
  /** The state file existed when loaded (this is a restart, not a first start). */
  existed = false;
  /** When the loaded state was written (ms since epoch, by the clock of the agent that wrote it). */
  savedAt = 0;
  /**
   * The state file's modification time (ns), taken by the same kernel clock as the birth times
   * of the files we compare with it. Date.now() is not: file times come from a coarse clock
   * that lags it by up to a tick (~4 ms), so a file created just after a state write could look
   * older than the state by savedAt, and be followed from its end (its content lost).
   */
  writtenNs = 0n;
  writes = 0;
  private version = 0;
  private written = 0;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;
  private tmpSeq = 0;
  private closed = false;

  constructor(
    readonly file: string,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown, what: string) => void,
  ) {}

  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    this.existed = true;
    this.writtenNs = await stat(this.file, { bigint: true }).then(
      (st) => st.mtimeNs,
      () => 0n,
    );
    try {
      const s = JSON.parse(text) as StateFile;
      if (s.version !== 1 || typeof s.files !== 'object' || s.files === null) throw new Error(`unsupported state version ${String(s.version)}`);
      this.savedAt = Number(s.savedAt) || 0;
      for (const [k, e] of Object.entries(s.files)) {
        if (typeof e?.offset === 'number' && typeof e.fp === 'string' && typeof e.sid === 'string') this.entries.set(k, e);
      }
    } catch (err) {
      // A torn or foreign file: keep it for inspection, start without offsets.
      this.onError(err, `state file ${this.file} is unreadable; moved aside to ${this.file}.corrupt`);
      await rename(this.file, `${this.file}.corrupt`).catch(() => undefined);
    }
  }

  get(key: string): FileEntry | undefined {
    return this.entries.get(key);
  }

  set(key: string, e: FileEntry): void {
    this.entries.set(key, e);
    this.touch();
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.touch();
  }

  /** Something changed: schedule a write (or write now, synchronously, once closed). */
  touch(): void {
    this.version++;
    if (this.closed) {
      this.saveSync();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, this.intervalMs);
  }

  private serialize(): string {
    const files: Record<string, FileEntry> = {};
    for (const [k, e] of this.entries) files[k] = e;
    const s: StateFile = { version: 1, savedAt: Date.now(), files };
    return JSON.stringify(s);
  }

  private tmpName(): string {
    return `${this.file}.${process.pid}.${this.tmpSeq++}.tmp`;
  }

  /** Write the current state if it changed since the last write. */
  async save(): Promise<void> {
    while (this.saving) await this.saving;
    if (this.version === this.written) return;
    const v = this.version;
    const body = this.serialize();
    const tmp = this.tmpName();
    this.saving = (async () => {
      try {
        const fh = await open(tmp, 'w', 0o600);
        try {
          await fh.writeFile(body);
          await fh.datasync();
        } finally {
          await fh.close();
        }
        // Rename synchronously so a saveSync() in between cannot be overwritten by older data.
        if (v > this.written) {
          renameSync(tmp, this.file);
          this.written = v;
          this.writes++;
        } else await unlink(tmp);
      } catch (err) {
        this.onError(err, `cannot write state file ${this.file}`);
        await unlink(tmp).catch(() => undefined);
        if (!this.closed) this.touchLater();
      }
    })();
    try {
      await this.saving;
    } finally {
      this.saving = undefined;
    }
  }

  private touchLater(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, this.intervalMs);
  }

  saveSync(): void {
    if (this.version === this.written) return;
    const v = this.version;
    const tmp = this.tmpName();
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, this.serialize());
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
      this.written = v;
      this.writes++;
    } catch (err) {
      this.onError(err, `cannot write state file ${this.file}`);
      try {
        unlinkSync(tmp);
      } catch {
        /* not created */
      }
    }
  }

  /** Stop the timer and write what is pending; later changes are written synchronously. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.saving) await this.saving;
    this.saveSync();
  }
}
