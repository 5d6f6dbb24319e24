/**
 * vsock-forward's `seal:` option: a chunk's records become sealed units (core/seal), one per
 * source (meta.src) and per max_frame_size, each sent as one record `{sealed: <age bytes>,
 * _qlog: {src, seq: <last>, seq_first: <first>, sealed_size}}` (docs/sealing.md). The parent
 * keeps exactly-once with its src/seq marks without reading them.
 */
import { loadSealOptions, parseRecipient, Sealer, type SealOptions } from '../../core/seal/index.js';
import { compactable, EntryWriter } from '../../core/forward/entry-encoder.js';
import { META_KEY, packr, writeEventTime } from '../../core/forward/index.js';
import { lineBlocks, type Chunk, type LineBlock, type LogRecord } from '../../core/record.js';
import { SEALED_FIELD } from '../../core/sealed-record.js';
import { QlogError } from '../../core/errors.js';

export interface SealConfig {
  recipients: readonly string[];
  recipients_file: string;
  signing_key_file: string;
  attestation_command: readonly string[];
}

/** Whether the `seal:` option turns sealing on. */
export function sealingOn(s: SealConfig): boolean {
  return s.recipients.length > 0 || s.recipients_file !== '';
}

/** The `seal:` option as core/seal's SealOptions ('' = not given). Throws a QlogError. */
export function sealOptions(s: SealConfig, configDir: string): SealOptions {
  return loadSealOptions(
    {
      recipients: [...s.recipients],
      recipients_file: s.recipients_file || undefined,
      signing_key_file: s.signing_key_file || undefined,
      attestation_command: s.attestation_command.length ? [...s.attestation_command] : undefined,
    },
    configDir,
  );
}

/** Config-time check of the keys: which option is wrong (for its file:line:column), and why. */
export function checkSealKeys(s: SealConfig, configDir: string): { key: string; message: string } | undefined {
  if (!sealingOn(s)) return undefined;
  const attempt = (key: string, o: Partial<SealConfig>): { key: string; message: string } | undefined => {
    try {
      sealOptions({ recipients: [], recipients_file: '', signing_key_file: '', attestation_command: [], ...o }, configDir);
      return undefined;
    } catch (e) {
      if (e instanceof QlogError) return { key, message: e.message };
      throw e;
    }
  };
  for (const [i, r] of s.recipients.entries()) {
    const p = parseRecipient(r);
    if ('error' in p) return { key: `seal.recipients.${i}`, message: `${JSON.stringify(r)} is not an age recipient: ${p.error}` };
  }
  if (s.recipients_file) {
    const p = attempt('seal.recipients_file', { recipients_file: s.recipients_file });
    if (p) return p;
  }
  // The signing key is read with recipients known to be good (checked above).
  if (s.signing_key_file) return attempt('seal.signing_key_file', { ...s, attestation_command: [] });
  return undefined;
}

/** Bytes a unit adds around its records: age header per recipient, the unit header, a signature, the tag. */
const UNIT_OVERHEAD = 2048;
const AGE_STANZA = 256;
/** Sealed chunks kept for a retry; max_inflight_chunks (64) are in flight at most. */
const MAX_UNDELIVERED = 128;
/** age's payload: 64 KiB chunks, each with a 16-byte tag. */
const AGE_CHUNK = 64 * 1024;

interface Group {
  stream: string;
  /** Source records: their meta.src/seq are the stream's; false: a running number is given. */
  own: boolean;
  time: bigint;
  blocks: LineBlock[];
  records: LogRecord[];
  /** The blocks' entries leave path and src out of `_qlog`; the unit header's `meta` has them. */
  meta?: { path: string; src: string };
  /** Largest entries of one of its units (unitMax, less the room `meta` takes in the header). */
  max: number;
}

/** Frame entries in pieces: a unit's bytes are copied once, into the frame. */
export interface SealedPart {
  entries: Buffer[];
  count: number;
}

export interface SealedChunk {
  parts: SealedPart[];
  oversized: number;
  units: number;
  /** Sealed before (a retry): nothing new to count. */
  again?: boolean;
}

export class ChunkSealer {
  readonly sealer: Sealer;
  private readonly inner = new EntryWriter(1 << 16, META_KEY);
  /** The sealed records of the chunk being sealed: their pieces (a record's are consecutive). */
  private pieces: Buffer[] = [];
  /** Index in `pieces` after each record of the chunk being sealed (from 0). */
  private pieceEnds: number[] = [0];
  /** Sealed chunks not yet delivered, by chunk id: a retried flush sends the same units. */
  private readonly done = new Map<string, SealedChunk>();
  /** Running number of the records without a source (meta.seq of their stream). */
  private sourceless = 0;
  private readonly sourcelessStream: string;
  /** Largest plaintext of one unit. */
  private readonly unitMax: number;
  /** Tag and last seq of each stream's last unit (its closing unit goes there, and repeats the seq). */
  private readonly ends = new Map<string, { tag: string; last: number }>();

  constructor(
    opts: SealOptions,
    name: string,
    private readonly maxBytes: number,
  ) {
    this.sealer = new Sealer(opts);
    this.sourcelessStream = `seal:${name}:${this.sealer.session}`;
    // Unit 0 of each chain also carries the attestation document (base64) in its header.
    const room = maxBytes - UNIT_OVERHEAD - AGE_STANZA * opts.recipients.length - (this.sealer.attestation?.length ?? 0);
    this.unitMax = Math.max(1024, Math.floor((room * AGE_CHUNK) / (AGE_CHUNK + 16)));
  }

  /**
   * The frames' entries for a chunk: one sealed record per unit, in parts of at most maxBytes.
   * Must be called in flush order (each unit extends its stream's chain); a chunk already
   * sealed (a retry) gets the same units again.
   */
  seal(chunk: Chunk): SealedChunk {
    const before = this.done.get(chunk.id);
    if (before) return { ...before, again: true };
    // The frames' entries of this chunk, kept for a retry.
    this.pieces = [];
    this.pieceEnds = [0];
    const bounds: number[] = [0];
    let oversized = 0;
    let units = 0;
    for (const g of this.groups(chunk)) {
      const w = this.inner;
      w.reset();
      if (g.blocks.length && this.wholeGroup(g, chunk.tag, bounds)) {
        units++;
        continue;
      }
      const ends: number[] = [];
      const seqs: number[] = [];
      // Where the first record's bytes begin: the offset the read began at (tail's previous
      // line end), the running number before it, or unknown (records built by a filter).
      let start: number | null = null;
      if (g.blocks.length) {
        start = g.blocks[0]!.base;
        w.reset();
        for (const b of g.blocks) {
          let j = 0;
          w.lines(
            b,
            0,
            b.count,
            (off) => {
              ends.push(off);
              seqs.push(b.base + b.seqs[j++]!);
            },
            g.meta !== undefined,
          );
        }
      } else {
        for (const r of g.records) {
          w.entry(r.time, r.body, r.meta);
          ends.push(w.offset);
          seqs.push(g.own ? (r.meta.seq as number) : ++this.sourceless);
        }
        if (!g.own) start = seqs[0]! - 1;
      }
      const all = w.result();
      // Units: runs of whole entries of at most g.max bytes. A record too big on its own is
      // dropped (counted); the next unit starts where the last one sent ended.
      let first = 0;
      const flushUnit = (to: number) => {
        const from = first ? ends[first - 1]! : 0;
        this.unit(g, chunk.tag, all.subarray(from, ends[to - 1]), start, seqs[first]!, seqs[to - 1]!, to - first, bounds);
        units++;
        start = seqs[to - 1]!;
      };
      for (let i = 0; i < ends.length; i++) {
        const size = ends[i]! - (i ? ends[i - 1]! : 0);
        if (size > g.max) {
          if (i > first) flushUnit(i);
          oversized++;
          first = i + 1;
          continue;
        }
        if (i > first && ends[i]! - (first ? ends[first - 1]! : 0) > g.max) {
          flushUnit(i);
          first = i;
        }
      }
      if (ends.length > first) flushUnit(ends.length);
    }
    const parts = cut(this.pieces, this.pieceEnds, bounds, this.maxBytes);
    this.pieces = [];
    const sealed = { parts, oversized, units };
    this.done.set(chunk.id, sealed);
    // A chunk the core gave up on is never delivered: keep the newest (a window's worth and more).
    if (this.done.size > MAX_UNDELIVERED) this.done.delete(this.done.keys().next().value!);
    return sealed;
  }

  /** The chunk was delivered: its units are not needed again. */
  delivered(id: string): void {
    this.done.delete(id);
  }

  /**
   * The common case: a source's lines (LineBlocks) that fit one unit are sealed without noting
   * each entry's end. False (nothing sealed) when they do not fit: the caller cuts them.
   */
  private wholeGroup(g: Group, tag: string, bounds: number[]): boolean {
    const w = this.inner;
    for (const b of g.blocks) {
      w.lines(b, 0, b.count, undefined, g.meta !== undefined);
      if (w.offset > g.max) return false;
    }
    const b0 = g.blocks[0]!;
    const bn = g.blocks[g.blocks.length - 1]!;
    let count = 0;
    for (const b of g.blocks) count += b.count;
    this.unit(g, tag, w.result(), b0.base, b0.base + b0.seqs[0]!, bn.base + bn.seqs[bn.count - 1]!, count, bounds);
    return true;
  }

  /** Seal a run of a group's entries as one unit and add its record to the frame entries. */
  private unit(g: Group, tag: string, entries: Buffer, start: number | null, first: number, last: number, count: number, bounds: number[]): void {
    // In pieces (the cipher's output): the frame is where they are copied, once.
    const unit = this.sealer.sealPieces({ stream: g.stream, start, first, last, count, tag, entries, meta: g.meta });
    let size = 0;
    for (const p of unit) size += p.length;
    this.ends.set(g.stream, { tag, last });
    const [head, tail] = sealedEntry(g.time, size, { src: g.stream, seq: last, seq_first: first, sealed_size: size });
    this.pieces.push(head, ...unit, tail);
    this.pieceEnds.push(this.pieces.length);
    bounds.push(bounds[bounds.length - 1]! + head.length + size + tail.length);
  }

  /**
   * Closing units (graceful stop): one record per stream sealed this session, `end: true`, its
   * seq range the stream's last seq, as seq_first/seq_last but no seq (the parent's marks must
   * not drop it), grouped by the tag of the stream's last unit.
   */
  close(time: bigint): { tag: string; entries: Buffer; count: number }[] {
    const byTag = new Map<string, { tag: string; w: EntryWriter; count: number }>();
    // '': each stream's closing unit carries the tag of its last unit.
    for (const u of this.sealer.close('')) {
      const e = this.ends.get(u.stream);
      const tag = e?.tag ?? '';
      let t = byTag.get(tag);
      if (!t) byTag.set(tag, (t = { tag, w: new EntryWriter(4096, META_KEY), count: 0 }));
      const last = e?.last ?? 0;
      t.w.entry(time, { [SEALED_FIELD]: u.bytes }, { src: u.stream, end: true, seq_first: last, seq_last: last, sealed_size: u.bytes.length });
      t.count++;
    }
    return [...byTag.values()].map((t) => ({ tag: t.tag, entries: t.w.result(), count: t.count }));
  }

  /** The chunk's records by stream, in order of first appearance (each source's order kept). */
  private groups(chunk: Chunk): Group[] {
    const groups = new Map<string, Group>();
    const blocks = lineBlocks(chunk);
    if (blocks) {
      for (const b of blocks) {
        if (b.count === 0) continue;
        let g = groups.get(b.src);
        if (!g)
          groups.set(b.src, (g = { stream: b.src, own: true, time: b.time, blocks: [], records: [], meta: { path: b.path, src: b.src }, max: this.unitMax }));
        g.blocks.push(b);
        // Compact entries need one path for the unit (a file renamed while read has two).
        if (g.meta && (b.path !== g.meta.path || !compactable(b))) g.meta = undefined;
      }
      for (const g of groups.values()) {
        if (!g.meta) continue;
        // `"meta":{...},` in every unit's header: off the entries' room (a path too long for that: whole entries).
        const room = Buffer.byteLength(JSON.stringify(g.meta)) + 8;
        if (room > this.unitMax / 8) g.meta = undefined;
        else g.max = this.unitMax - room;
      }
      return [...groups.values()];
    }
    for (const r of chunk.records) {
      const src = r.meta.src;
      const own = typeof src === 'string' && src !== '' && typeof r.meta.seq === 'number';
      const stream = own ? src : this.sourcelessStream;
      let g = groups.get(stream);
      if (!g) groups.set(stream, (g = { stream, own, time: r.time, blocks: [], records: [], max: this.unitMax }));
      g.records.push(r);
    }
    return [...groups.values()];
  }
}

/**
 * The entry `[time, {sealed: <bin of n bytes>, _qlog: meta}]` around the unit's bytes: what goes
 * before them and after (what EntryWriter.entry writes, without copying the bytes).
 */
function sealedEntry(time: bigint, n: number, meta: Record<string, unknown>): [Buffer, Buffer] {
  const head = Buffer.allocUnsafe(32);
  let p = 0;
  head[p++] = 0x92;
  p = writeEventTime(head, p, time);
  head[p++] = 0x82;
  p += head.write(`\xa6${SEALED_FIELD}`, p, 'latin1');
  if (n < 0x100) {
    head[p++] = 0xc4;
    head[p++] = n;
  } else if (n < 0x10000) {
    head[p++] = 0xc5;
    p = head.writeUInt16BE(n, p);
  } else {
    head[p++] = 0xc6;
    p = head.writeUInt32BE(n, p);
  }
  return [head.subarray(0, p), Buffer.concat([packr.pack(META_KEY), packr.pack(meta)])];
}

/**
 * The records (record i: pieces[ends[i]] .. pieces[ends[i + 1] - 1], ending at byte bounds[i + 1])
 * cut into parts of at most `max` bytes (each fits alone).
 */
function cut(pieces: Buffer[], ends: number[], bounds: number[], max: number): SealedPart[] {
  const parts: SealedPart[] = [];
  const part = (a: number, b: number) => parts.push({ entries: pieces.slice(ends[a], ends[b]), count: b - a });
  const records = bounds.length - 1;
  let from = 0;
  for (let i = 0; i < records; i++) {
    if (i > from && bounds[i + 1]! - bounds[from]! > max) {
      part(from, i);
      from = i;
    }
  }
  if (records > from) part(from, records);
  return parts;
}
