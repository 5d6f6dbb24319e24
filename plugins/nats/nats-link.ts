/**
 * The connection to NATS and its lifecycle. The client reconnects by itself once connected
 * (for ever, `reconnect_wait` apart); this class makes the first connection (and a new one if
 * the client ever closes), checks the stream, and tells the publisher when it may send.
 *
 *   connecting --connect + stream ok--> ready <--reconnect-- reconnecting <--disconnect-- ready
 *   ready | reconnecting --client closed--> connecting;  any --stop()--> stopped
 */
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { backoffDelay } from '../../core/backoff.js';
import { QlogError } from '../../core/errors.js';
import type { Counters } from '../../core/index.js';
import { connectError, ensureStream, natsClient, type TlsHint } from './nats-client.js';
import { AckWindow } from './nats-window.js';

type LinkState =
  | { kind: 'connecting'; since: number; error: QlogError | undefined }
  | { kind: 'ready'; nc: NatsConnection; window: AckWindow }
  | { kind: 'reconnecting'; nc: NatsConnection; window: AckWindow; since: number }
  | { kind: 'stopped' };

export interface LinkOptions {
  servers: string[];
  stream: string;
  createStream: boolean;
  /** Subjects of a stream created by create_stream. */
  streamSubjects: string[] | undefined;
  maxInflight: number;
  publishTimeoutMs: number;
  connectTimeoutMs: number;
  reconnectWaitMs: number;
  /** TLS is on: what its failures are explained with. */
  tls: TlsHint | undefined;
  /** Credentials and TLS; called at each new connection (files are read then). */
  connection: () => Promise<Partial<ConnectionOptions>>;
  name: string;
  log: Logger;
  counters: Counters;
}

const MAX_CONNECT_DELAY_MS = 30_000;

export class NatsLink {
  private state: LinkState = { kind: 'connecting', since: Date.now(), error: undefined };
  private waiters = new Set<() => void>();
  private readonly where: string;
  /** The first attempt's outcome, for start(). */
  private first: ((e: QlogError | undefined) => void) | undefined;

  constructor(private readonly o: LinkOptions) {
    this.where = o.servers.join(',');
  }

  /**
   * Connect and check the stream. Refused credentials and a missing stream reject (the agent
   * does not start); a server that cannot be reached within `waitMs` is logged and connecting
   * goes on in the background.
   */
  async start(waitMs: number): Promise<void> {
    const outcome = new Promise<QlogError | undefined>((r) => (this.first = r));
    void this.run();
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), waitMs)));
    const r = await Promise.race([outcome, waited]);
    clearTimeout(timer);
    if (r === 'late') {
      const e = this.state.kind === 'connecting' ? this.state.error : undefined;
      if (e === undefined) this.o.log.warn(`${this.o.name}: not connected to NATS at ${this.where} yet; still trying, the records wait in the buffer`);
      return;
    }
    if (r !== undefined && r.code !== 'QLOG_ERR_NATS_UNREACHABLE') {
      await this.stop();
      throw r;
    }
  }

  /** The window to publish in, once connected; rejects with the reason after `ms`. */
  async window(ms: number): Promise<AckWindow> {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = this.state;
      if (s.kind === 'ready') return s.window;
      if (s.kind === 'stopped') throw new QlogError('QLOG_ERR_NATS_UNREACHABLE/stopped', { servers: this.where });
      const left = deadline - Date.now();
      if (left <= 0) {
        throw s.kind === 'connecting' && s.error ? s.error : new QlogError('QLOG_ERR_NATS_UNREACHABLE/lost', { servers: this.where, ms });
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  async stop(): Promise<void> {
    const s = this.state;
    this.to({ kind: 'stopped' });
    if (s.kind === 'ready' || s.kind === 'reconnecting') {
      s.window.close();
      await s.nc.close().catch(() => undefined);
    }
  }

  /** A getter, so that checks after an await are not narrowed away by the compiler. */
  private get stopped(): boolean {
    return this.state.kind === 'stopped';
  }

  private to(next: LinkState): void {
    if (this.state.kind === 'stopped') return;
    this.state = next;
    for (const w of [...this.waiters]) w();
  }

  /** Connect (again) until stopped; each connection lives until the client closes it. */
  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      let nc: NatsConnection | undefined;
      try {
        nc = await natsClient().connect({
          servers: this.o.servers,
          name: `qlog ${this.o.name}`,
          timeout: this.o.connectTimeoutMs,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: this.o.reconnectWaitMs,
          ...(await this.o.connection()),
        });
        const made = await ensureStream(nc, this.o.stream, this.o.createStream, this.o.streamSubjects, this.where);
        if (made === 'created') this.o.log.info(`${this.o.name}: created JetStream stream ${this.o.stream} (subjects ${this.o.streamSubjects?.join(', ')})`);
      } catch (e) {
        await nc?.close().catch(() => undefined);
        if (this.stopped) return;
        const err = connectError(e, this.where, this.o.tls);
        this.failed(err, attempt++);
        await sleep(backoffDelay(attempt, this.o.reconnectWaitMs, MAX_CONNECT_DELAY_MS));
        continue;
      }
      if (this.stopped) {
        await nc.close().catch(() => undefined);
        return;
      }
      attempt = 0;
      await this.serve(nc);
    }
  }

  private failed(err: QlogError, attempt: number): void {
    const s = this.state;
    const episode = s.kind === 'connecting' && s.error?.message === err.message;
    this.o.counters.add('connect_errors');
    if (!episode) this.o.log.error({ code: err.code, attempt }, `${this.o.name}: ${err.message}`);
    else this.o.log.debug({ code: err.code, attempt }, `${this.o.name}: ${err.message}`);
    this.to({ kind: 'connecting', since: s.kind === 'connecting' ? s.since : Date.now(), error: err });
    this.first?.(err);
    this.first = undefined;
  }

  /** Publish over `nc` until the client closes it. */
  private async serve(nc: NatsConnection): Promise<void> {
    const window = new AckWindow(nc, { stream: this.o.stream, max: this.o.maxInflight, timeoutMs: this.o.publishTimeoutMs });
    const prev = this.state;
    this.o.counters.add('connections');
    const server = nc.getServer();
    if (prev.kind === 'connecting' && prev.error) {
      this.o.log.info(`${this.o.name}: connected to NATS at ${server} after ${((Date.now() - prev.since) / 1000).toFixed(1)} s (stream ${this.o.stream})`);
    } else {
      this.o.log.info(`${this.o.name}: connected to NATS at ${server} (stream ${this.o.stream})`);
    }
    this.to({ kind: 'ready', nc, window });
    this.first?.(undefined);
    this.first = undefined;
    const watch = (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.o.counters.add('disconnects');
          this.o.log.warn(`${this.o.name}: lost the connection to NATS at ${s.server}; reconnecting (unacknowledged messages are sent again)`);
          this.to({ kind: 'reconnecting', nc, window, since: Date.now() });
          window.down(`connection to ${s.server} lost`);
        } else if (s.type === 'reconnect') {
          const since = this.state.kind === 'reconnecting' ? this.state.since : Date.now();
          this.o.counters.add('connections');
          this.o.log.info(`${this.o.name}: reconnected to NATS at ${s.server} after ${((Date.now() - since) / 1000).toFixed(1)} s`);
          window.up();
          this.to({ kind: 'ready', nc, window });
        } else if (s.type === 'error') {
          this.o.log.warn({ err: s.error }, `${this.o.name}: NATS error: ${s.error.message}`);
        }
      }
    })().catch(() => undefined);
    const closed = await nc.closed();
    window.close();
    await watch;
    if (this.stopped) return;
    const err = connectError(closed ?? new Error('the client closed the connection'), this.where, this.o.tls);
    this.o.log.error({ code: err.code }, `${this.o.name}: NATS connection closed: ${err.message}`);
    this.to({ kind: 'connecting', since: Date.now(), error: err });
  }
}

/** A pause that does not keep a stopping agent alive. */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
