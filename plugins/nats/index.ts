/**
 * nats: publishes each record to a NATS JetStream stream. A chunk is acknowledged only when
 * JetStream acked every message of it (the stream has it); each message carries Nats-Msg-Id
 * `src:seq`, so a resend after a crash or a lost ack is dropped by JetStream within the stream's
 * duplicate_window. The NATS client is loaded when a nats output starts, never otherwise.
 */
import { definePlugin, VERSION_RANGE } from '../../core/index.js';
import { QlogError } from '../../core/errors.js';
import { compileTemplate, TemplateError } from '../../core/template.js';
import { authConnectionOptions, checkAuth, checkServersTls, streamSubjects, tlsConnectionOptions, tlsHint } from './nats-client.js';
import { NatsLink } from './nats-link.js';
import { ChunkPublisher } from './nats-publish.js';
import { schema } from './schema.js';

/** Template names that are the same for every record of a chunk (blocks carry no meta.host). */
const PER_CHUNK_KEYS = new Set(['tag', 'host']);

export default definePlugin({
  kind: 'output',
  name: 'nats',
  description: 'Publishes records to a NATS JetStream stream; a chunk is acked once JetStream stored every record (Nats-Msg-Id src:seq drops resends).',
  qlog: VERSION_RANGE,
  schema,
  check(o) {
    try {
      compileTemplate(o.subject);
    } catch (e) {
      if (e instanceof TemplateError) return { key: 'subject', message: e.message };
      throw e;
    }
    if (o.create_stream && !streamSubjects(o.subject)) {
      return {
        key: 'create_stream',
        message: `cannot derive the subjects of a new stream from subject ${JSON.stringify(o.subject)}: start it with a literal token such as "logs." (logs.\${tag} gives logs.>), or create the stream yourself`,
      };
    }
    return checkAuth(o) ?? checkServersTls(o.servers, o.tls);
  },
  setup(ctx) {
    const o = ctx.options;
    const subject = compileTemplate(o.subject, { hostname: ctx.service.hostname });
    const subjectPerChunk = subject.keys.every((k) => PER_CHUNK_KEYS.has(k) || k.startsWith('env:'));
    const link = new NatsLink({
      servers: o.servers,
      stream: o.stream,
      createStream: o.create_stream,
      streamSubjects: streamSubjects(o.subject),
      maxInflight: o.max_inflight,
      publishTimeoutMs: o.publish_timeout,
      connectTimeoutMs: o.connect_timeout,
      reconnectWaitMs: o.reconnect_wait,
      tls: tlsHint(o.servers, o.tls, ctx.service.configDir),
      connection: async () => ({
        ...authConnectionOptions(o, ctx.service.configDir),
        ...(await tlsConnectionOptions(o.servers, o.tls, ctx.service.configDir, (e) =>
          ctx.log.error({ err: e }, `${ctx.id}: ${e.message}; keeping the TLS certificates read before`),
        )),
      }),
      name: ctx.id,
      log: ctx.log,
      counters: ctx.counters,
    });
    const publisher = new ChunkPublisher(link, {
      subject,
      subjectPerChunk,
      format: o.format,
      stream: o.stream,
      publishTimeoutMs: o.publish_timeout,
      name: ctx.id,
      counters: ctx.counters,
      onTooLarge: (count, tag, max) =>
        ctx.log.error({ code: 'QLOG_ERR_NATS_TOO_LARGE' }, `${ctx.id}: ${new QlogError('QLOG_ERR_NATS_TOO_LARGE', { count, tag, max }).message}`),
    });
    // start may take at most service.grace: leave room for the stream check after connecting.
    const waitMs = Math.max(200, Math.min(o.connect_timeout, ctx.service.graceMs * 0.6));
    ctx.hooks.start.tapPromise('nats', () => link.start(waitMs));
    ctx.hooks.flush.tapPromise('nats', (chunk) => publisher.publish(chunk));
    ctx.hooks.stop.tapPromise('nats', () => link.stop());
  },
});
