/**
 * http: sends records to an HTTP(S) endpoint in one of several wire formats (NDJSON, a JSON
 * array, the Elasticsearch bulk API, the Loki push API, OTLP/HTTP JSON). A chunk is acknowledged
 * only once the target stored it (Elasticsearch: item by item), so the inputs' offsets commit end
 * to end. This file stays small: the client (node:http, node:https, node:zlib) and the formats
 * load in setup, only when an http output is configured.
 */
import { definePlugin, VERSION_RANGE, type CheckError, type Infer } from '../../core/index.js';
import { compileTemplate } from '../../core/template.js';
import { checkTls, tlsGiven } from '../../core/transport/index.js';
import { httpsAddress } from './http-address.js';
import { schema } from './schema.js';
import type { Format } from './http-format.js';
import { parseLabels } from './http-loki.js';

type Options = Infer<typeof schema>;

function check(o: Options): CheckError | undefined {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    return { key: 'url', message: `expected an http:// or https:// URL, found ${JSON.stringify(o.url)}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { key: 'url', message: `expected an http:// or https:// URL, found ${JSON.stringify(o.url)}` };
  }
  const a = o.auth;
  if (a.type === 'basic' && !a.user) return { key: 'auth', message: 'type basic needs a user (and a password)' };
  if (a.type === 'bearer' && !a.token) return { key: 'auth', message: 'type bearer needs a token' };
  if (a.type === 'none' && (a.user || a.password || a.token))
    return { key: 'auth', message: 'credentials are given but type is none; add type: basic or type: bearer' };
  if (url.protocol === 'https:') {
    const bad = checkTls(o.tls, 'connect', httpsAddress(url));
    if (bad) return bad;
  } else if (tlsGiven(o.tls)) {
    return { key: 'tls', message: `expected an https:// url with the tls options, found ${o.url} (write https://${url.host}, or remove tls)` };
  }
  try {
    if (o.format === 'elasticsearch') compileTemplate(o.index);
    if (o.format === 'loki') for (const l of parseLabels(o.labels)) compileTemplate(l.value);
  } catch (e) {
    return { key: o.format === 'loki' ? 'labels' : 'index', message: (e as Error).message };
  }
  return undefined;
}

async function makeFormat(o: Options, hostname: string): Promise<Format> {
  const shape = { timeKey: o.time_key || (o.format === 'elasticsearch' ? '@timestamp' : 'date'), tagKey: o.tag_key, includeMeta: o.include_meta };
  switch (o.format) {
    case 'json_lines':
      return (await import('./http-json.js')).jsonLinesFormat(shape);
    case 'json':
      return (await import('./http-json.js')).jsonArrayFormat(shape);
    case 'elasticsearch':
      return (await import('./http-elasticsearch.js')).elasticsearchFormat({
        ...shape,
        index: o.index,
        action: o.bulk_action,
        idFromSource: o.id_key,
        hostname,
      });
    case 'loki':
      return (await import('./http-loki.js')).lokiFormat(o.labels, hostname);
    case 'otlp':
      return (await import('./http-otlp.js')).otlpFormat(o.service_name, hostname);
  }
}

export default definePlugin({
  kind: 'output',
  name: 'http',
  description: 'Sends records over HTTP(S): NDJSON, JSON, Elasticsearch/OpenSearch bulk, Loki push or OTLP/HTTP JSON logs (acks per stored record).',
  qlog: VERSION_RANGE,
  schema,
  check,
  async setup(ctx) {
    const o = ctx.options;
    const format = await makeFormat(o, ctx.service.hostname);
    const { HttpClient, authorization } = await import('./http-client.js');
    const { HttpDelivery } = await import('./http-deliver.js');
    const url = new URL(o.url);
    if (url.pathname === '/' && format.path !== '/') url.pathname = format.path;
    let client: InstanceType<typeof HttpClient> | undefined;
    let delivery: InstanceType<typeof HttpDelivery> | undefined;

    ctx.hooks.start.tap('http', () => {
      client = new HttpClient({
        url,
        contentType: format.contentType,
        headers: o.headers as Record<string, string>,
        gzip: o.compress === 'gzip',
        authorization: authorization(o.auth),
        tls: o.tls,
        timeoutMs: o.timeout,
        configDir: ctx.service.configDir,
        maxSockets: 16,
        onStaleTls: (e) => ctx.log.error({ err: e }, `${ctx.id}: ${e.message}; keeping the TLS certificates read before`),
      });
      delivery = new HttpDelivery({
        id: ctx.id,
        url: url.href,
        format,
        client,
        batchSize: o.batch_size,
        batchWaitMs: o.batch_wait,
        maxRetryAfterMs: o.max_retry_after,
        log: ctx.log,
        counters: ctx.counters,
      });
    });
    ctx.hooks.flush.tapPromise('http', (chunk) => delivery!.flush(chunk));
    ctx.hooks.stop.tap('http', () => {
      delivery?.stop();
      client?.close();
    });
  },
});
