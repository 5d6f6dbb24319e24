/**
 * One HTTP(S) endpoint: POSTs a body with the configured headers, auth and compression over a
 * keep-alive agent (connections are reused between requests), and reads the whole answer.
 * node:http, node:https and node:zlib load with this file, which the plugin imports only when an
 * http output is configured.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { createError } from '../../core/errors.js';

const gzip = promisify(zlib.gzip);
/** Answers longer than this are cut off (an Elasticsearch bulk answer is ~150 bytes per record). */
const MAX_RESPONSE = 64 * 1024 * 1024;

export interface TlsOptions {
  ca_file: string;
  crt_file: string;
  key_file: string;
  verify: boolean;
  server_name: string;
  min_version: 'TLSv1.2' | 'TLSv1.3';
}

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

function readTlsFile(key: string, file: string, dir: string): Buffer | undefined {
  if (!file) return undefined;
  const path = resolve(dir, file);
  try {
    return readFileSync(path);
  } catch (e) {
    throw createError('QLOG_ERR_HTTP_TLS_FILE', { key, file: path, reason: (e as NodeJS.ErrnoException).code ?? String(e) });
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
      const t = o.tls;
      this.agent = new https.Agent({
        ...common,
        ca: readTlsFile('ca_file', t.ca_file, o.configDir),
        cert: readTlsFile('crt_file', t.crt_file, o.configDir),
        key: readTlsFile('key_file', t.key_file, o.configDir),
        rejectUnauthorized: t.verify,
        servername: t.server_name || undefined,
        minVersion: t.min_version,
      });
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
      req.once('error', (e: NodeJS.ErrnoException) => fail(e.code ? `${e.code}: ${e.message}` : e.message));
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
