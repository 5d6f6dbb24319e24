/**
 * vsock-forward: ships chunks to a qlog `vsock` input (or any Fluent Forward receiver) as
 * PackedForward frames; a chunk counts as delivered when the receiver acks it (end to end).
 */
import { promisify } from 'node:util';
import { definePlugin, nowNs, VERSION_RANGE, type Chunk } from '../../core/index.js';
import {
  encodeEntriesInto,
  encodeEntryParts,
  encodePackedForward,
  packedForwardAround,
  packedForwardHeadRoom,
  type EntryPart,
} from '../../core/forward/index.js';
import { BufferPool } from '../../core/buffer-pool.js';
import { lazyModule } from '../../core/lazy.js';
import { checkCredentials, checkLinkEnds, checkSeal, schema } from './schema.js';
import { ChunkSealer, checkSealKeys, sealingOn, sealOptions, type SealedPart } from './vsock-forward-seal.js';
import { ForwardLink } from './vsock-forward-link.js';
import { UpstreamLink } from './vsock-forward-upstream.js';

const zlib = lazyModule<typeof import('node:zlib')>('node:zlib');
let gzip: ((b: Buffer) => Promise<Buffer>) | undefined;
const gzipAsync = (b: Buffer): Promise<Buffer> => (gzip ??= promisify(zlib().gzip) as (b: Buffer) => Promise<Buffer>)(b);
/** Room for the tag (up to 256 characters) and the options around the entries of a frame. */
const FRAME_OVERHEAD = 1024;

export default definePlugin({
  kind: 'output',
  name: 'vsock-forward',
  description: 'Sends records over vsock, unix, tcp or hybrid vsock with the Fluent Forward protocol (acks, resend, backpressure).',
  qlog: VERSION_RANGE,
  schema,
  check: (o, c) => checkLinkEnds(o) ?? checkCredentials(o) ?? checkSeal(o) ?? checkSealKeys(o.seal, c.configDir),
  setup(ctx) {
    const o = ctx.options;
    const gz = o.compress === 'gzip';
    // Frames come back to the pool once acked (or written, without acks): at full speed the
    // frames in flight are reused instead of piling up as garbage.
    const frames = new BufferPool(o.max_frame_size, Math.min(32, Math.ceil(o.max_inflight / o.max_frame_size) + o.workers));
    const common = {
      tls: o.tls,
      baseDir: ctx.service.configDir,
      sharedKey: o.shared_key || undefined,
      username: o.username,
      password: o.password,
      selfHostname: o.self_hostname || ctx.service.hostname,
      requireAck: o.require_ack,
      maxInflightBytes: o.max_inflight,
      maxInflightChunks: o.max_inflight_chunks,
      sendBuffer: o.max_frame_size,
      connectTimeoutMs: o.connect_timeout,
      reconnectBaseMs: o.reconnect_base,
      reconnectMaxMs: o.reconnect_max,
      heartbeatMs: o.heartbeat,
      ackTimeoutMs: o.ack_timeout,
      log: ctx.log,
      counters: ctx.counters,
      name: ctx.id,
    };
    // round_robin spreads tags: a tag is one stream whose chunks each node gets in order.
    const streamOf: (c: Chunk) => string = o.balance === 'round_robin' ? (c) => c.tag : () => '';
    const link = o.upstream.length
      ? new UpstreamLink({ ...common, upstream: o.upstream, balance: o.balance })
      : new ForwardLink({ ...common, connect: o.connect, listen: o.listen });

    const maxEntries = Math.max(1024, o.max_frame_size - FRAME_OVERHEAD);
    // Sealing (docs/sealing.md): units are sealed in flush order, since each extends its chain.
    const sealer = sealingOn(o.seal) ? new ChunkSealer(sealOptions(o.seal, ctx.service.configDir), ctx.id, maxEntries) : undefined;
    if (sealer) ctx.log.info(`${ctx.id}: sealing records (session ${sealer.sealer.session})`);
    /** Flushes not settled yet: closing units go out only after the last one. */
    let unsettled = 0;

    ctx.hooks.start.tapPromise('vsock-forward', () => link.start());
    // Chunks must reach the window in the order the core flushed them (the receiver keeps that
    // order, and the parent's dedupe by src/seq drops a line that arrives after a later one):
    // encoding (gzip) runs concurrently, handing over to the link is serialised in flush order.
    let handOver: Promise<void> = Promise.resolve();
    ctx.hooks.flush.tapPromise('vsock-forward', async (chunk) => {
      const previous = handOver;
      let release!: () => void;
      handOver = new Promise((r) => (release = r));
      let sends: Promise<void>[];
      let encoded: Frame[];
      unsettled++;
      try {
        try {
          encoded = sealer ? [] : await encode(chunk);
          await previous;
          if (sealer) encoded = frame(chunk, sealed(chunk, sealer), false);
          const stream = streamOf(chunk);
          sends = encoded.map((f) => link.send(f.id, f.frame, stream));
        } finally {
          release();
        }
        await Promise.all(sends);
        sealer?.delivered(chunk.id);
        for (const f of encoded) if (f.pooled) frames.recycle(f.pooled);
      } finally {
        unsettled--;
      }
    });

    /** A chunk's sealed units (the same ones when the chunk is retried). */
    function sealed(chunk: Chunk, s: ChunkSealer): SealedPart[] {
      const r = s.seal(chunk);
      if (r.again) return r.parts;
      if (r.oversized) tooLarge(chunk, r.oversized);
      ctx.counters.add('units_sealed', r.units);
      return r.parts;
    }

    function tooLarge(chunk: Chunk, n: number): void {
      ctx.counters.add('records_too_large', n);
      ctx.log.error(`${ctx.id}: dropped ${n} record(s) of ${chunk.tag} bigger than max_frame_size (${o.max_frame_size} bytes) on their own`);
    }

    interface Frame {
      id: string;
      frame: Buffer;
      /** The pooled buffer the frame was written into. */
      pooled?: Buffer;
    }

    async function encode(chunk: Chunk): Promise<Frame[]> {
      if (!gz) {
        const f = inPlace(chunk);
        if (f) return [f];
      }
      const { parts, oversized } = encodeEntryParts(chunk, maxEntries);
      if (oversized) tooLarge(chunk, oversized);
      // Part ids derive from the chunk id, so a retried chunk is cut and named the same way.
      // The entries are views into the encoder's scratch buffer, which the next chunk reuses:
      // framing copies them at once; gzip runs on the thread pool, so it gets copies taken now,
      // before the first await.
      if (!gz) return frame(chunk, parts, false);
      const zipped: EntryPart[] = [];
      const copies = parts.map((p) => Buffer.from(p.entries));
      for (let i = 0; i < parts.length; i++) zipped.push({ entries: await gzipAsync(copies[i]!), count: parts[i]!.count });
      return frame(chunk, zipped, true);
    }

    /**
     * A big chunk as one frame, its entries written straight into a pooled frame buffer and the
     * message put around them (no copy); undefined when it is small or takes more than one
     * message (then encodeEntryParts cuts it, and frame() copies each part).
     */
    function inPlace(chunk: Chunk): Frame | undefined {
      // A small chunk gets a frame of its own size (frame()), not a pooled one: a stalled link
      // queues many small chunks, and a pooled buffer each held pages a burst had touched.
      if (chunk.bytes * 4 < o.max_frame_size) return undefined;
      const t = frames.take(o.max_frame_size);
      if (!t.pooled) return undefined;
      const part = encodeEntriesInto(chunk, maxEntries, t.buf, packedForwardHeadRoom(chunk.tag));
      const f = part && packedForwardAround(chunk.tag, t.buf, part.entries, { chunk: o.require_ack ? chunk.id : undefined, size: part.count });
      if (!f) {
        frames.release(t.buf);
        return undefined;
      }
      return { id: chunk.id, frame: f, pooled: t.buf };
    }

    /** One Forward frame per part (ids <chunk>.<i> when there are several). */
    function frame(chunk: { id: string; tag: string }, parts: readonly (EntryPart | SealedPart)[], gzip: boolean): Frame[] {
      const out: Frame[] = [];
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        const id = parts.length === 1 ? chunk.id : `${chunk.id}.${i}`;
        let pooled: Buffer | undefined;
        const f = encodePackedForward(chunk.tag, p.entries, { chunk: o.require_ack ? id : undefined, size: p.count, gzip }, (n) => {
          const t = frames.take(n);
          if (t.pooled) pooled = t.buf;
          return t.buf;
        });
        out.push({ id, frame: f, pooled });
      }
      return out;
    }

    ctx.hooks.stop.tapPromise('vsock-forward', async () => {
      if (sealer) await sendClosingUnits(sealer);
      await link.stop();
    });

    /**
     * Graceful stop with every chunk delivered: each stream's closing unit, so an opener can tell
     * the session's end from a cut (a kill, a lost tail). Not when chunks are still undelivered
     * (the grace ran out): their units would come after it.
     */
    async function sendClosingUnits(s: ChunkSealer): Promise<void> {
      if (unsettled > 0) {
        ctx.log.warn(`${ctx.id}: ${unsettled} chunk(s) undelivered at stop: no closing units sent (the opener reports this session as cut)`);
        return;
      }
      const closing = s.close(nowNs());
      if (!closing.length) return;
      const sends = closing.flatMap((c, i) =>
        frame({ id: `${s.sealer.session}.end.${i}`, tag: c.tag }, [{ entries: c.entries, count: c.count }], false).map((f) =>
          link.send(f.id, f.frame, streamOf({ id: f.id, tag: c.tag, records: [], bytes: 0 })),
        ),
      );
      let timer: NodeJS.Timeout | undefined;
      const delivered = Promise.all(sends).then(() => true);
      const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), Math.min(o.ack_timeout, 5000))));
      const ok = await Promise.race([delivered.catch(() => false), late]);
      clearTimeout(timer);
      if (ok)
        ctx.counters.add(
          'units_sealed',
          closing.reduce((n, c) => n + c.count, 0),
        );
      else ctx.log.warn(`${ctx.id}: the closing units were not acknowledged in time (the opener reports this session as cut)`);
    }
  },
});
