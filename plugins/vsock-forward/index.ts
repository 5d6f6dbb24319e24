/**
 * vsock-forward: ships chunks to a qlog `vsock` input (or any Fluent Forward receiver) as
 * PackedForward frames; a chunk counts as delivered when the receiver acks it (end to end).
 */
import { promisify } from 'node:util';
import { definePlugin, VERSION_RANGE, type Chunk } from '../../core/index.js';
import { encodeEntryParts, encodePackedForward } from '../../core/forward/index.js';
import { BufferPool } from '../../core/buffer-pool.js';
import { lazyModule } from '../../core/lazy.js';
import { checkCredentials, checkLinkEnds, schema } from './schema.js';
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
  check: (o) => checkLinkEnds(o) ?? checkCredentials(o),
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
      try {
        encoded = await encode(chunk);
        await previous;
        const stream = streamOf(chunk);
        sends = encoded.map((f) => link.send(f.id, f.frame, stream));
      } finally {
        release();
      }
      await Promise.all(sends);
      for (const f of encoded) if (f.pooled) frames.release(f.pooled);
    });

    interface Frame {
      id: string;
      frame: Buffer;
      /** The pooled buffer the frame was written into. */
      pooled?: Buffer;
    }

    async function encode(chunk: Chunk): Promise<Frame[]> {
      const { parts, oversized } = encodeEntryParts(chunk, Math.max(1024, o.max_frame_size - FRAME_OVERHEAD));
      if (oversized) {
        ctx.counters.add('records_too_large', oversized);
        ctx.log.error(`${ctx.id}: dropped ${oversized} record(s) of ${chunk.tag} bigger than max_frame_size (${o.max_frame_size} bytes) on their own`);
      }
      // Part ids derive from the chunk id, so a retried chunk is cut and named the same way.
      // The entries are views into the encoder's scratch buffer, which the next chunk reuses:
      // framing copies them at once; gzip runs on the thread pool, so it gets copies taken now,
      // before the first await.
      const payloads = gz ? parts.map((p) => Buffer.from(p.entries)) : undefined;
      const out: Frame[] = [];
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        const id = parts.length === 1 ? chunk.id : `${chunk.id}.${i}`;
        const payload = payloads ? await gzipAsync(payloads[i]!) : p.entries;
        let pooled: Buffer | undefined;
        const frame = encodePackedForward(chunk.tag, payload, { chunk: o.require_ack ? id : undefined, size: p.count, gzip: gz }, (n) => {
          const t = frames.take(n);
          if (t.pooled) pooled = t.buf;
          return t.buf;
        });
        out.push({ id, frame, pooled });
      }
      return out;
    }
    ctx.hooks.stop.tapPromise('vsock-forward', () => link.stop());
  },
});
