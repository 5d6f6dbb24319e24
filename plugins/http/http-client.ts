/**
 * One HTTP(S) endpoint: POSTs a body with the configured headers, auth and compression over a
 * keep-alive agent (connections are reused between requests), and reads the whole answer.
 * https connections are the tls:// transport of core/transport (the shared `tls` map, its file
 * checks and its handshake messages), handed to the agent. node:http, node:https and node:zlib
 * load with this file, which the plugin imports only when an http output is configured.
 */
import type { Duplex } from 'node:stream';
import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { createError, QlogError } from '../../core/errors.js';
import type { TlsAddr, TlsOptions, TransportError } from '../../core/transport/index.js';
import { connectTls } from '../../core/transport/tls.js';
import { loadTlsFiles, type TlsContext } from '../../core/transport/tls-files.js';
import { httpsAddress } from './http-address.js';

const gzip = promisify(zlib.gzip);
/** Answers longer than this are cut off (an Elasticsearch bulk answer is ~150 bytes per record). */
const MAX_RESPONSE = 64 * 1024 * 1024;

export interface ClientOptions {
  url: URL;
  contentType: string;
  headers: Record<string, string>;
  gzip: boolean;
  /** The Authorization header value, or ''. */
  authorization: string;
  tls: TlsOptions;
  timeoutMs: number;
  /** Relative tls file paths start here (the config file's directory). */
  configDir: string;
  /** Connections kept open at most (requests in flight). */
  maxSockets: number;
  /** A reload found the tls files unusable: the ones read before stay in use. */
  onStaleTls?: (err: TransportError) => void;
}

export interface HttpResponse {
  status: number;
  body: Buffer;
  /** Retry-After of the answer in milliseconds (delta-seconds or an HTTP-date), if any. */
  retryAfterMs: number | undefined;
}

/** `Authorization` for basic or bearer credentials ('' for none). */
export function authorization(a: { type: string; user: string; password: string; token: string }): string {
  if (a.type === 'basic') return `Basic ${Buffer.from(`${a.user}:${a.password}`).toString('base64')}`;
  if (a.type === 'bearer') return `Bearer ${a.token}`;
  return '';
}

/** Retry-After: "120" (seconds) or an HTTP-date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * A keep-alive https agent whose connections are made by core/transport's connectTls: the
 * certificate check (verify, server_name, ca_file), min_version and the client certificate are
 * the link transports' own, and a refused handshake says why in their words.
 */
class TlsTransportAgent extends https.Agent {
  constructor(
    opts: https.AgentOptions,
    private readonly addr: TlsAddr,
    private readonly tls: TlsContext,
    private readonly timeoutMs: number,
  ) {
    super(opts);
  }

  override createConnection(_o: https.RequestOptions, done?: (err: Error | null, stream: Duplex) => void): undefined {
    connectTls(this.addr, this.tls, this.timeoutMs).then(
      (c) => done?.(null, c.stream),
      (e: Error) => done?.(e, undefined as never),
    );
    return undefined;
  }
}

export class HttpClient {
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly send: typeof http.request;

  constructor(private readonly o: ClientOptions) {
    const secure = o.url.protocol === 'https:';
    const common = { keepAlive: true, maxSockets: o.maxSockets, maxFreeSockets: o.maxSockets, scheduling: 'lifo' as const };
    if (secure) {
      // Read at every start: a reload (SIGHUP) builds a new client, so the files are read again.
      const { context, stale } = loadTlsFiles(o.tls, 'connect', o.configDir);
      if (stale) o.onStaleTls?.(stale);
      this.agent = new TlsTransportAgent(common, httpsAddress(o.url), context, o.timeoutMs);
      this.send = https.request;
    } else {
      this.agent = new http.Agent(common);
      this.send = http.request;
    }
    this.headers = { 'content-type': o.contentType, 'user-agent': 'qlog', ...lowerKeys(o.headers) };
    if (o.gzip) this.headers['content-encoding'] = 'gzip';
    if (o.authorization) this.headers.authorization = o.authorization;
  }

  /** POST the body; resolves with any HTTP answer, rejects on a network failure or timeout. */
  async post(text: string): Promise<HttpResponse> {
    const body = this.o.gzip ? await gzip(text) : Buffer.from(text);
    return new Promise((resolvePost, reject) => {
      const req = this.send(this.o.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...this.headers, 'content-length': String(body.length) },
        timeout: this.o.timeoutMs,
      });
      const fail = (reason: string) => reject(createError('QLOG_ERR_HTTP_REQUEST', { url: this.o.url.href, reason }));
      req.once('timeout', () => req.destroy(new Error(`no answer within ${this.o.timeoutMs} ms`)));
      req.once('error', (e: NodeJS.ErrnoException) => fail(e instanceof QlogError || !e.code ? e.message : `${e.code}: ${e.message}`));
      req.once('response', (res) => {
        const parts: Buffer[] = [];
        let n = 0;
        res.on('data', (d: Buffer) => {
          n += d.length;
          if (n > MAX_RESPONSE) res.destroy(new Error(`answer longer than ${MAX_RESPONSE} bytes`));
          else parts.push(d);
        });
        res.once('error', (e) => fail(e.message));
        res.once('end', () => {
          const h = res.headers['retry-after'];
          resolvePost({ status: res.statusCode ?? 0, body: Buffer.concat(parts), retryAfterMs: retryAfterMs(Array.isArray(h) ? h[0] : h) });
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) out[k.toLowerCase()] = h[k]!;
  return out;
}
