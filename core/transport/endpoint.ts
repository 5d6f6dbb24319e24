/**
 * One side of a link as plugins configure it: `connect:` (dial, and redial with exponential
 * backoff and jitter whenever the connection is lost) or `listen:` (accept). Shared by the
 * vsock input and the vsock-forward output.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { backoffDelay } from '../backoff.js';
import { Recurring } from '../recurring.js';
import { parseAddress, TransportError, VSOCK_CID_ANY, type Address, type PeerIdentity } from './address.js';
import { connectPeer, listen } from './connect.js';
import type { Listener } from './socket.js';
import type { TlsContext } from './tls-files.js';
import { checkTls, TLS_DEFAULTS, type TlsOptions } from './tls-options.js';

export interface EndpointConfig {
  connect: string;
  listen: string;
  /** The `tls` option map (tls:// addresses). */
  tls?: TlsOptions;
}

/** Cross-field check for plugin options: exactly one of connect/listen, and a valid address. */
export function checkEndpoint(o: EndpointConfig): { key: string; message: string } | undefined {
  if (!o.connect === !o.listen)
    return {
      key: o.connect ? 'listen' : 'connect',
      message: o.connect
        ? 'give either connect or listen, not both'
        : 'expected one of connect (e.g. vsock://3:24224) or listen (e.g. vsock://any:24224), found neither',
    };
  const key = o.connect ? 'connect' : 'listen';
  try {
    const a = parseAddress(o.connect || o.listen);
    if (key === 'connect' && a.transport === 'vsock' && a.cid === VSOCK_CID_ANY)
      return { key, message: 'expected the peer\'s CID (e.g. vsock://16:24224), found "any" (only valid for listen)' };
    if (key === 'connect' && (a.transport === 'tcp' || a.transport === 'tls') && a.port === 0)
      return { key, message: 'expected a port number (1-65535), found 0' };
    return checkTls(o.tls, key, a);
  } catch (e) {
    if (e instanceof TransportError) return { key, message: e.message };
    throw e;
  }
}

export interface EndpointOptions extends EndpointConfig {
  connectTimeoutMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  log: Logger;
  /** Prefix of log messages (the instance id). */
  name: string;
  /**
   * A connection is up. In connect mode the returned promise must settle when the connection
   * is over: the next dial waits for it. The backoff restarts after a connection that made
   * progress (the owner calls progressed()) or lasted GOOD_RUN_MS.
   */
  onConnection(stream: Duplex, peer: PeerIdentity): Promise<void> | void;
  /** While dialing keeps failing, how often a summary is logged (default FAILING_SUMMARY_MS). */
  failureSummaryMs?: number;
  /** Called on each failed dial (for counters). */
  onDialError?(err: Error): void;
  /** Directory relative tls file paths resolve against (the config file's). */
  baseDir?: string;
  /** A connection refused by the transport (tls:// handshake); already logged here. For counters. */
  onRefused?(peer: PeerIdentity, err: Error): void;
}

/** A connection that lasted this long resets the backoff. */
const GOOD_RUN_MS = 10_000;
/** While dialing keeps failing, a summary is logged this often (the first failure at once). */
const FAILING_SUMMARY_MS = 30_000;

export class Endpoint {
  readonly address: Address;
  private listener?: Listener;
  private stopped = false;
  private wake?: () => void;
  /** The current connection (connect mode) made progress: data acknowledged or received. */
  private progress = false;
  private tls?: TlsContext;

  constructor(private readonly o: EndpointOptions) {
    this.address = parseAddress(o.connect || o.listen);
  }

  get mode(): 'connect' | 'listen' {
    return this.o.connect ? 'connect' : 'listen';
  }

  /** Listen (rejects if the address cannot be bound) or start dialing (returns at once). */
  async start(): Promise<void> {
    if (this.address.transport === 'tls') await this.readTls();
    if (this.mode === 'listen') {
      this.listener = await listen(this.address, (s, peer) => void this.o.onConnection(s, peer), {
        onError: (err) => this.o.log.warn({ err }, `${this.o.name}: listener error on ${this.address.uri}: ${err.message}`),
        tls: this.tls,
        handshakeTimeoutMs: this.o.connectTimeoutMs,
        onRefused: (peer, err) => {
          this.o.log.warn(`${this.o.name}: ${err.message}`);
          this.o.onRefused?.(peer, err);
        },
      });
      this.o.log.info(`${this.o.name}: listening on ${this.listener.uri}`);
    } else void this.dialLoop();
  }

  /**
   * Read the certificate files, at every start: a reload (SIGHUP) builds a new Endpoint, so new
   * connections present (and check against) the files as they are now. Files a reload cannot use
   * leave the ones read before in place, with an error in the log.
   */
  private async readTls(): Promise<void> {
    const { loadTlsFiles } = await import('./tls-files.js');
    const { context, stale } = loadTlsFiles(this.o.tls ?? TLS_DEFAULTS, this.mode, this.o.baseDir ?? process.cwd());
    if (stale) this.o.log.error({ err: stale }, `${this.o.name}: ${stale.message}; keeping the TLS certificates read before`);
    this.tls = context;
  }

  /** The bound address (listen mode; a tcp port 0 shows the real port). */
  get boundUri(): string | undefined {
    return this.listener?.uri;
  }

  /**
   * The current connection made progress (an ack, a chunk): when it ends, redial at once with
   * the backoff restarted. A parent killed and back within a second must not find the enclave
   * waiting out a backoff grown over earlier failures; a peer that accepts and fails at once
   * makes no progress and keeps its backoff.
   */
  progressed(): void {
    this.progress = true;
  }

  /** Stop accepting / dialing. Open connections are the owner's to close. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.listener?.close().catch(() => undefined);
    this.listener = undefined;
  }

  private async dialLoop(): Promise<void> {
    let attempt = 0;
    const failing = new DialFailures(this.o.log, this.o.name, this.address.uri, this.o.failureSummaryMs ?? FAILING_SUMMARY_MS);
    while (!this.stopped) {
      let stream: Duplex | undefined;
      let peer: PeerIdentity | undefined;
      try {
        ({ stream, peer } = await connectPeer(this.address, { timeoutMs: this.o.connectTimeoutMs, tls: this.tls }));
        failing.connected();
      } catch (e) {
        const err = e as Error;
        this.o.onDialError?.(err);
        failing.failed(err);
      }
      if (stream && !this.stopped) {
        const t0 = Date.now();
        this.progress = false;
        try {
          await this.o.onConnection(stream, peer!);
        } catch (e) {
          this.o.log.warn({ err: e }, `${this.o.name}: connection to ${this.address.uri} failed: ${(e as Error).message}`);
        }
        if (this.progress || Date.now() - t0 >= GOOD_RUN_MS) attempt = 0;
      } else stream?.destroy();
      if (this.stopped) break;
      const delay = backoffDelay(attempt, this.o.reconnectBaseMs, this.o.reconnectMaxMs);
      this.o.log.debug({ attempt, delay_ms: Math.round(delay) }, `${this.o.name}: next dial to ${this.address.uri} in ${Math.round(delay)} ms`);
      attempt++;
      failing.nextTry(delay);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}

/**
 * What an operator sees while a peer cannot be reached: the first failure at once (warn), then a
 * summary every summaryMs (attempts, last error, next try), and one line when it works
 * again. Each attempt's own failure is debug: at a 500 ms backoff they would flood the log.
 */
class DialFailures {
  private readonly failures: Recurring;

  constructor(
    private readonly log: Logger,
    private readonly name: string,
    private readonly uri: string,
    summaryMs: number,
  ) {
    this.failures = new Recurring(summaryMs);
  }

  failed(err: Error): void {
    if (this.failures.add(err.message)) this.log.warn(`${this.name}: cannot connect to ${this.uri}: ${err.message}; retrying with backoff`);
    else this.log.debug(`${this.name}: cannot connect to ${this.uri}: ${err.message}`);
  }

  /** After a failure: the delay before the next attempt (for the summary). */
  nextTry(delayMs: number): void {
    const f = this.failures;
    if (f.due() === undefined) return;
    this.log.warn(
      `${this.name}: still cannot connect to ${this.uri}: ${f.count} attempts in ${f.seconds()} s, last error: ${f.last}; next try in ${(delayMs / 1000).toFixed(1)} s`,
    );
  }

  connected(): void {
    const r = this.failures.reset();
    if (r) this.log.info(`${this.name}: connected to ${this.uri} after ${r.count} failed attempts (${r.seconds} s)`);
  }
}
