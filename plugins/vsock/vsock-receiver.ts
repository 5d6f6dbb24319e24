/**
 * The vsock input's connections: accept (or dial) senders, check who they are, decode their
 * frames into chunks, and ack each chunk only when the pipeline has settled it. Which connections
 * are read is FairIntake's call (vsock-fair.ts); per-peer metrics are in vsock-peer-stats.ts.
 */
import type { Duplex } from 'node:stream';
import { chunkBytes, type EntryBlock, type InputContext, type LogRecord } from '../../core/index.js';
import { ENTRY_OVERHEAD, RECORD_OVERHEAD } from '../../core/record.js';
import { BufferPool } from '../../core/buffer-pool.js';
import { decodeEntries, ReceiverSession, sanitizeTag, type DecodedEvents } from '../../core/forward/index.js';
import { Endpoint, subjectMatches, type PeerIdentity } from '../../core/transport/index.js';
import { markSealedRecord, SEALED_RECORD_BYTES } from '../../core/sealed-record.js';
import { ChunkDedupe } from './vsock-dedupe.js';
import { loadUnsealKeys, Unsealer, unsealOn } from './vsock-unseal.js';
import { FairIntake, type Flow } from './vsock-fair.js';
import { PeerTable } from './vsock-peer-stats.js';
import type { schema } from './schema.js';
import type { Infer } from '../../core/index.js';

type Options = Infer<typeof schema>;

/**
 * Messages are read into pooled buffers of this size (vsock-forward's are up to 1 MiB); one
 * holding plain lines becomes their EntryBlock's (no copy) and comes back when the chunk
 * settled. Left to the garbage collector, such buffers piled up as external memory until a full
 * GC (~20 MiB at full speed).
 */
const ENTRIES_BUFFER = 1152 << 10;
/** Pooled buffers for the per-line arrays of an EntryBlock (20 bytes a line: 6,500 lines). */
const LINES_BUFFER = 128 << 10;

export class VsockReceiver {
  readonly endpoint: Endpoint;
  private readonly sessions = new Map<ReceiverSession, Flow>();
  private readonly intake: FairIntake;
  readonly peers: PeerTable;
  private readonly dedupe: ChunkDedupe;
  private readonly entriesPool = new BufferPool(ENTRIES_BUFFER, 4);
  private readonly linesPool = new BufferPool(LINES_BUFFER, 4);
  private readonly allowed: ReadonlySet<number>;
  private readonly warnedTag = new WeakSet<ReceiverSession>();
  /** unseal: opens sealed units into records (docs/sealing.md). */
  private readonly unsealer: Unsealer | undefined;
  private stopping = false;

  constructor(private readonly ctx: InputContext<Options>) {
    const o = ctx.options;
    this.dedupe = new ChunkDedupe(o.dedupe_window);
    this.allowed = new Set(o.allowed_cids);
    this.intake = new FairIntake(o.peer_buffer_limit);
    this.peers = new PeerTable(o.peer_metrics_retention, o.max_connections);
    this.unsealer = unsealOn(o.unseal)
      ? new Unsealer(loadUnsealKeys(o.unseal, ctx.service.configDir), {
          counters: ctx.counters,
          log: ctx.log,
          name: ctx.id,
          maxDecompressed: o.max_frame_size,
          plainRecords: o.unseal.plain_records,
        })
      : undefined;
    ctx.counters.addSeries(() => this.peers.samples());
    this.endpoint = new Endpoint({
      connect: o.connect,
      listen: o.listen,
      tls: o.tls,
      baseDir: ctx.service.configDir,
      connectTimeoutMs: o.connect_timeout,
      reconnectBaseMs: o.reconnect_base,
      reconnectMaxMs: o.reconnect_max,
      log: ctx.log,
      name: ctx.id,
      onConnection: (s, peer) => this.accept(s, peer),
      onDialError: () => ctx.counters.add('connect_errors'),
      onRefused: () => ctx.counters.add('connections_refused'),
    });
  }

  get connections(): number {
    return this.sessions.size;
  }

  start(): Promise<void> {
    return this.endpoint.start();
  }

  /** Stop reading from every sender (downstream is full, or the agent is stopping). */
  pause(): void {
    this.intake.hold();
  }

  /** Downstream has room: the least loaded senders are read first. */
  resume(): void {
    if (this.stopping) return;
    this.intake.release();
  }

  /** Agent stopping: no new connections or frames; open connections stay to carry the last acks. */
  async stopIntake(): Promise<void> {
    this.stopping = true;
    this.pause();
    await this.endpoint.stop();
  }

  /** After the outputs drained: close every connection (acks written so far still go out). */
  closeAll(): void {
    for (const s of [...this.sessions.keys()]) s.shutdown();
  }

  /** Whether a peer may connect; logs and counts a refusal. */
  admit(peer: PeerIdentity): boolean {
    const c = this.ctx.counters;
    let why: string | undefined;
    if (this.stopping) why = 'the agent is stopping';
    else if (peer.transport === 'vsock' && this.allowed.size > 0 && (peer.cid === undefined || !this.allowed.has(peer.cid)))
      why = `CID ${peer.cid ?? '?'} is not in allowed_cids [${[...this.allowed].join(', ')}]`;
    else if (!this.subjectAllowed(peer))
      why = `${peer.subject ? `certificate subject ${peer.subject}` : 'no verified certificate'} is not in allowed_subjects [${this.ctx.options.allowed_subjects.join(', ')}]`;
    else if (this.endpoint.mode === 'listen' && this.sessions.size >= this.ctx.options.max_connections)
      why = `max_connections (${this.ctx.options.max_connections}) reached`;
    if (why === undefined) return true;
    c.add('connections_refused');
    this.ctx.log.warn(`${this.ctx.id}: refused connection from ${peer.label}: ${why}`);
    return false;
  }

  /** allowed_subjects: a tls:// peer's verified certificate subject matches an entry (other transports: not checked). */
  private subjectAllowed(peer: PeerIdentity): boolean {
    const allowed = this.ctx.options.allowed_subjects;
    if (peer.transport !== 'tls' || allowed.length === 0) return true;
    const subject = peer.subject;
    return subject !== undefined && allowed.some((e) => subjectMatches(subject, e));
  }

  /** A new connection (accepted or dialed); resolves when it is over. */
  accept(stream: Duplex, peer: PeerIdentity): Promise<void> {
    if (!this.admit(peer)) {
      stream.destroy();
      return Promise.resolve();
    }
    const o = this.ctx.options;
    const stats = this.peers.open(peer);
    return new Promise<void>((done) => {
      const session = new ReceiverSession(stream, peer, {
        sharedKey: o.shared_key || undefined,
        users: o.users,
        selfHostname: o.self_hostname || this.ctx.service.hostname,
        maxFrameSize: o.max_frame_size,
        handshakeTimeoutMs: o.connect_timeout,
        // Plain lines stay bytes unless unseal must see every record (it counts the plain ones).
        lines: this.unsealer === undefined,
        alloc: (n) => this.entriesPool.take(n).buf,
        onEvents: (ev, s) => this.onEvents(ev, s, this.sessions.get(s)!),
        onClose: (s, reason, dropped) => {
          const flow = this.sessions.get(s);
          if (flow) this.intake.remove(flow);
          this.sessions.delete(s);
          this.peers.close(stats);
          if (dropped) {
            this.ctx.counters.add('peers_dropped');
            this.ctx.log.warn(`${this.ctx.id}: dropped peer ${peer.label}: ${reason}`);
          } else if (!this.stopping) this.ctx.log.info(`${this.ctx.id}: connection from ${peer.label} closed${reason ? ` (${reason})` : ''}`);
          done();
        },
      });
      if (session.closed) return; // closed while being set up: onClose ran already
      this.sessions.set(session, this.intake.add(session, stats));
      this.ctx.counters.add('connections');
      this.ctx.counters.set('open_connections', this.sessions.size);
      this.ctx.log.info(`${this.ctx.id}: connected with ${peer.label}`);
    }).finally(() => this.ctx.counters.set('open_connections', this.sessions.size));
  }

  /** Dedupe key: chunk ids are per sender; a vsock sender is its CID, others share the address. */
  private sourceKey(peer: PeerIdentity): string {
    return peer.transport === 'vsock' ? `cid:${peer.cid}` : this.endpoint.address.uri;
  }

  private onEvents(ev: DecodedEvents, session: ReceiverSession, flow: Flow): void {
    const c = this.ctx.counters;
    const peer = session.peer;
    c.add('frames');
    this.endpoint.progressed();
    if (ev.invalid) {
      c.add('invalid_records', ev.invalid);
      this.ctx.log.debug(`${this.ctx.id}: skipped ${ev.invalid} entries that are not [time, map] from ${peer.label}`);
    }
    if (ev.tagRewritten) {
      c.add('tags_rewritten');
      if (!this.warnedTag.has(session)) {
        this.warnedTag.add(session);
        this.ctx.log.warn(
          `${this.ctx.id}: ${peer.label} sent a tag outside [A-Za-z0-9._-] (or with "..", a leading "." or over 256 characters); rewritten to "${ev.tag}"`,
        );
      }
    }
    const ackValue = ev.ackValue;
    const ack = ackValue === undefined ? undefined : () => session.ack(ackValue);
    const key = ev.chunk === undefined ? undefined : `${this.sourceKey(peer)}|${ev.chunk}`;
    if (key !== undefined && !this.dedupe.arrive(key, ack!)) {
      c.add('duplicate_chunks');
      return;
    }
    if (this.unsealer) {
      const u = this.unsealer.open(ev.records, this.sourceKey(peer), peer.label);
      if (u.hold) {
        // Not acked: the sender resends it (ack_timeout), and the resend is opened afresh.
        if (key !== undefined) this.dedupe.forget(key);
        return;
      }
      ev.records = u.records;
    }
    const lines = ev.lines;
    const count = lines ? lines.scan.count : ev.records.length;
    if (count === 0) {
      if (key !== undefined) this.dedupe.settle(key, ack);
      return;
    }
    const prefix = this.ctx.options.tag_prefix;
    const tag = prefix ? sanitizeTag(prefix + ev.tag) : ev.tag;
    let block: EntryBlock | undefined;
    let bytes: number;
    if (lines) {
      // Plain lines or sealed units: kept as their entries; records are made only if something
      // asks for them. Units count as their records do (the bytes are one value each).
      block = entryBlock(lines, peer, this.entriesPool, this.linesPool, session.takeMessage());
      bytes = lines.scan.sealed ? count * SEALED_RECORD_BYTES : lines.scan.bytes;
    } else {
      annotate(ev.records, tag, peer);
      bytes = chunkBytes(ev.records);
    }
    // Charged as records cost, whether or not they are ever built (peer_buffer_limit's unit).
    const cost = bytes + count * RECORD_OVERHEAD;
    flow.stats.recordsIn += count;
    flow.stats.bytesIn += bytes;
    this.intake.charge(flow, cost);
    const onSettled = (s: { delivered: boolean }) => {
      // Every output is done with the chunk: its entries' memory can be reused, or freed now when
      // the pool does not keep it (a message smaller than a quarter of a pooled buffer has one of
      // its own: left to the garbage collector, those piled up as external memory, ~9 MiB with
      // 500-line chunks, once the parent's line copy stopped making garbage of its own).
      if (block) {
        this.entriesPool.recycle(block.buf);
        this.linesPool.recycle(block.lines);
      }
      this.intake.settle(flow, cost);
      if (key === undefined) return;
      if (!s.delivered) {
        c.add('chunks_dropped_downstream');
        this.ctx.log.warn(`${this.ctx.id}: an output dropped chunk ${ev.chunk} from ${peer.label}; acking it anyway so the sender moves on`);
      }
      this.dedupe.settle(key, ack);
    };
    const more = block ? this.ctx.emitEntries(tag, block, bytes, { onSettled }) : this.ctx.emit(tag, ev.records, { bytes, onSettled });
    if (!more) this.pause();
  }
}

/**
 * The final tag, and who sent it: meta.cid for vsock peers, meta.peer for the others, and
 * meta.subject for a tls:// peer with a verified certificate (never what the wire claimed). A
 * vsock peer's meta.src is put in its CID's namespace (`cid16/<src>`): two
 * enclaves made from one image can have identical file identities, and one enclave must not be
 * able to move another's dedupe high-water mark in a file they share.
 */
function annotate(records: LogRecord[], tag: string, peer: PeerIdentity): void {
  const vsock = peer.transport === 'vsock' && peer.cid !== undefined;
  const ns = srcNamespace(peer);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    r.tag = tag;
    // A sealed unit relayed as it is: its bytes go out as base64 in JSON (bin in msgpack).
    if (typeof r.body !== 'string') markSealedRecord(r);
    const m = r.meta;
    if (vsock) {
      m.cid = peer.cid;
      if (m.src !== undefined) m.src = ns + m.src;
      if (m.peer !== undefined) delete m.peer;
    } else {
      m.peer = peer.label;
      if (m.cid !== undefined) delete m.cid;
    }
    if (peer.subject !== undefined) {
      m.subject = peer.subject;
      if (!vsock && m.src !== undefined) m.src = ns + m.src;
    } else if (m.subject !== undefined) delete m.subject;
  }
}

/**
 * The prefix of meta.src: the sender's namespace, its CID or its verified certificate's subject
 * (enclaves made from one image can have identical file identities; see docs/protocol.md, peer
 * identity). Empty for other peers.
 */
function srcNamespace(peer: PeerIdentity): string {
  if (peer.transport === 'vsock' && peer.cid !== undefined) return `cid${peer.cid}/`;
  return peer.subject !== undefined ? `tls:${peer.subject}/` : '';
}

/**
 * A message's plain lines (or sealed units) as an EntryBlock: in `message` (the session's buffer holding it, given
 * over) or else copied into a buffer from `entries`; the per-line arrays in a buffer from
 * `lines`; meta.src in the sender's namespace as annotate puts it; records made as onEvents would.
 */
export function entryBlock(
  lines: NonNullable<DecodedEvents['lines']>,
  peer: PeerIdentity,
  entries: BufferPool,
  linesPool: BufferPool,
  message?: Buffer,
): EntryBlock {
  const s = lines.scan;
  const n = s.count;
  const e = lines.entries;
  let buf: Buffer;
  let at: number;
  if (message !== undefined && e.buffer === message.buffer) {
    buf = message;
    at = e.byteOffset - message.byteOffset;
  } else {
    buf = entries.take(e.length).buf;
    e.copy(buf);
    at = 0;
  }
  // seqs first (8-aligned), then starts, ends, srcOf.
  const arrays = linesPool.take(n * ENTRY_OVERHEAD + 7).buf;
  const ab = arrays.buffer;
  const o = (arrays.byteOffset + 7) & ~7;
  const seqs = new Float64Array(ab, o, n);
  const starts = new Uint32Array(ab, o + 8 * n, n);
  const ends = new Uint32Array(ab, o + 12 * n, n);
  const srcOf = new Int32Array(ab, o + 16 * n, n);
  seqs.set(s.seqs.subarray(0, n));
  srcOf.set(s.srcOf.subarray(0, n));
  for (let i = 0; i < n; i++) {
    starts[i] = s.starts[i]! + at;
    ends[i] = s.ends[i]! + at;
  }
  const ns = srcNamespace(peer);
  const data = buf.subarray(at, at + e.length);
  return {
    count: n,
    buf,
    lines: arrays,
    size: e.length + n * ENTRY_OVERHEAD,
    starts,
    ends,
    srcOf,
    seqs,
    srcs: s.srcs.map((x) => ns + x),
    ...(s.sealed ? { units: { firsts: s.firsts.slice(0, n), lasts: s.lasts.slice(0, n) } } : {}),
    build(tag) {
      const records = decodeEntries(data, tag);
      annotate(records, tag, peer);
      return records;
    },
  };
}
