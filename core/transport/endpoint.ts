/**
 * One side of a link as plugins configure it: `connect:` (dial, and redial with exponential
 * backoff and jitter whenever the connection is lost) or `listen:` (accept). Shared by the
 * vsock input and the vsock-forward output.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { backoffDelay } from '../backoff.js';
import { parseAddress, peerOfAddress, TransportError, VSOCK_CID_ANY, type Address, type PeerIdentity } from './address.js';
import { connect, listen } from './connect.js';
import type { Listener } from './socket.js';

export interface EndpointConfig {
  connect: string;
  listen: string;
}

/** Cross-field check for plugin options: exactly one of connect/listen, and a valid address. */
export function checkEndpoint(o: EndpointConfig): { key: string; message: string } | undefined {
  if (!o.connect === !o.listen)
    return {
      key: o.connect ? 'listen' : 'connect',
      message: o.connect ? 'give either connect or listen, not both' : 'expected one of connect (e.g. vsock://3:24224) or listen (e.g. vsock://any:24224), found neither',
    };
  const key = o.connect ? 'connect' : 'listen';
  try {
    const a = parseAddress(o.connect || o.listen);
    if (key === 'connect' && a.transport === 'vsock' && a.cid === VSOCK_CID_ANY)
      return { key, message: 'expected the peer\'s CID (e.g. vsock://16:24224), found "any" (only valid for listen)' };
    if (key === 'connect' && a.transport === 'tcp' && a.port === 0) return { key, message: 'expected a port number (1-65535), found 0' };
  } catch (e) {
    if (e instanceof TransportError) return { key, message: e.message };
    throw e;
  }
  return undefined;
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
   * is over: the next dial waits for it. `uptime` lets the backoff restart after a good run.
   */
  onConnection(stream: Duplex, peer: PeerIdentity): Promise<void> | void;
  /** Called on each failed dial (for counters). */
  onDialError?(err: Error): void;
}

/** A connection that lasted this long resets the backoff. */
const GOOD_RUN_MS = 10_000;

export class Endpoint {
  readonly address: Address;
  private listener?: Listener;
  private stopped = false;
  private wake?: () => void;
  private loop?: Promise<void>;

  constructor(private readonly o: EndpointOptions) {
    this.address = parseAddress(o.connect || o.listen);
  }

  get mode(): 'connect' | 'listen' {
    return this.o.connect ? 'connect' : 'listen';
  }

  /** Listen (rejects if the address cannot be bound) or start dialing (returns at once). */
  async start(): Promise<void> {
    if (this.mode === 'listen') {
      this.listener = await listen(this.address, (s, peer) => void this.o.onConnection(s, peer), {
        onError: (err) => this.o.log.warn({ err }, `${this.o.name}: listener error on ${this.address.uri}: ${err.message}`),
      });
      this.o.log.info(`${this.o.name}: listening on ${this.listener.uri}`);
    } else this.loop = this.dialLoop();
  }

  /** The bound address (listen mode; a tcp port 0 shows the real port). */
  get boundUri(): string | undefined {
    return this.listener?.uri;
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
    const peer = peerOfAddress(this.address);
    while (!this.stopped) {
      let stream: Duplex | undefined;
      try {
        stream = await connect(this.address, { timeoutMs: this.o.connectTimeoutMs });
      } catch (e) {
        const err = e as Error;
        this.o.onDialError?.(err);
        const msg = `${this.o.name}: cannot connect to ${this.address.uri}: ${err.message}`;
        if (attempt === 0) this.o.log.warn(msg);
        else this.o.log.debug(msg);
      }
      if (stream && !this.stopped) {
        const t0 = Date.now();
        try {
          await this.o.onConnection(stream, peer);
        } catch (e) {
          this.o.log.warn({ err: e }, `${this.o.name}: connection to ${this.address.uri} failed: ${(e as Error).message}`);
        }
        if (Date.now() - t0 >= GOOD_RUN_MS) attempt = 0;
      } else stream?.destroy();
      if (this.stopped) break;
      const delay = backoffDelay(attempt++, this.o.reconnectBaseMs, this.o.reconnectMaxMs);
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
