/**
 * vsock-forward: ships chunks to a qlog `vsock` input (or any Fluent Forward receiver) as
 * PackedForward frames; a chunk counts as delivered when the receiver acks it (end to end).
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { definePlugin, VERSION_RANGE } from '../../core/index.js';
import { encodeEntries, encodePackedForward } from '../../core/forward/index.js';
import { checkEndpoint } from '../../core/transport/index.js';
import { schema } from './schema.js';
import { ForwardLink } from './vsock-forward-link.js';

const gzipAsync = promisify(gzip);

export default definePlugin({
  kind: 'output',
  name: 'vsock-forward',
  description: 'Sends records over vsock, unix, tcp or hybrid vsock with the Fluent Forward protocol (acks, resend, backpressure).',
  qlog: VERSION_RANGE,
  schema,
  check: (o) => checkEndpoint(o),
  setup(ctx) {
    const o = ctx.options;
    const gz = o.compress === 'gzip';
    const link = new ForwardLink({
      connect: o.connect,
      listen: o.listen,
      sharedKey: o.shared_key || undefined,
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
    });

    ctx.hooks.start.tapPromise('vsock-forward', () => link.start());
    ctx.hooks.flush.tapPromise('vsock-forward', async (chunk) => {
      const entries = encodeEntries(chunk.records);
      const payload = gz ? await gzipAsync(entries) : entries;
      const frame = encodePackedForward(chunk.tag, payload, { chunk: o.require_ack ? chunk.id : undefined, size: chunk.records.length, gzip: gz });
      await link.send(chunk.id, frame);
    });
    ctx.hooks.stop.tapPromise('vsock-forward', () => link.stop());
  },
});
