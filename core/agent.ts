/**
 * One running agent: config -> logger -> engine, plus the process-level lifecycle:
 * SIGTERM/SIGINT drain and exit 0 (a second signal exits at once), SIGHUP reloads (the new
 * config is validated first; an invalid one is logged and the old pipeline keeps running).
 */
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConfig } from './config/load.js';
import { Engine, type InstanceMetrics } from './engine/engine.js';
import { createLogger, type AgentLog } from './log.js';
import { VERSION } from './version.js';
import { ConfigError, QlogError } from './errors.js';
import { afterStartup, giveBackMemory } from './memory.js';
import type { HttpEndpoint } from './http.js';
import { serviceInfoOf } from './config/service-info.js';

export type ConfigLoader = () => Promise<AgentConfig>;

export class Agent {
  private engine?: Engine;
  private log?: AgentLog;
  private http?: HttpEndpoint;
  private stopping?: Promise<void>;
  private reloading: Promise<unknown> = Promise.resolve();
  private keepAlive?: NodeJS.Timeout;
  private idleWatch?: NodeJS.Timeout;
  /** Called when the agent cannot go on (both the new and the old pipeline failed to start on reload). */
  onFatal?: () => void;

  constructor(
    private config: AgentConfig,
    private readonly load: ConfigLoader,
  ) {}

  get logger(): Logger {
    return this.log!.logger;
  }

  private async startEngine(c: AgentConfig): Promise<Engine> {
    const engine = new Engine(c, serviceInfoOf(c), this.logger);
    await engine.setup();
    await engine.start();
    return engine;
  }

  private newLog(s: AgentConfig['service']): AgentLog {
    return createLogger({
      level: s.log_level,
      file: s.log_file ? resolve(s.log_file) : undefined,
      rotateSize: s.log_rotate_size as number,
      rotateNum: s.log_rotate_num,
      mirrorWarnings: process.stderr.isTTY === true,
    });
  }

  async start(): Promise<void> {
    const s = this.config.service;
    this.log = this.newLog(s);
    this.keepAlive = setInterval(() => undefined, 1 << 30);
    // The endpoint first: it answers (empty until the pipeline runs) by the time records flow, and
    // an address in use fails the start before any input has read anything.
    if (s.http_listen) this.http = await this.startHttp(s.http_listen);
    this.engine = await this.startEngine(this.config);
    // A parent that filters builds a record per line: it keeps the usual young generation.
    afterStartup({ receiver: this.engine.inputs.some((i) => i.name === 'vsock') && this.engine.filters.length === 0 });
    this.watchIdle();
    this.logger.info(
      { config: this.config.file, version: VERSION, inputs: this.engine.inputs.map((i) => i.id), outputs: this.engine.outputs.map((o) => o.id) },
      `qlog ${VERSION} started with ${this.config.file}`,
    );
  }

  /** The metrics endpoint (its module is loaded only by agents that serve one). */
  private async startHttp(listen: string): Promise<HttpEndpoint> {
    const { startHttp } = await import('./http.js');
    try {
      return await startHttp(
        listen,
        () => this.metrics(),
        this.logger,
        () => {
          const s = this.config.service;
          return {
            errorsCount: s.hc_errors_count,
            retryFailureCount: s.hc_retry_failure_count,
            periodMs: s.hc_period as number,
            stallMs: s.hc_stall_timeout as number,
          };
        },
      );
    } catch (e) {
      // Name the option: "listen EADDRINUSE 127.0.0.1:2020" alone does not say which setting to change.
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE') throw new QlogError('QLOG_ERR_TRANSPORT_IN_USE/http', { addr: listen, reason: 'address already in use' }, { cause: e });
      throw new QlogError('QLOG_ERR_TRANSPORT_LISTEN/http', { addr: listen, reason: err.message }, { cause: e });
    }
  }

  /** Give back memory once the pipeline is idle or a catch-up settled (core/memory.ts); counts what the inputs took in. */
  private watchIdle(): void {
    const recordsIn = (): number => {
      let n = 0;
      for (const m of this.engine?.metrics() ?? []) if (m.kind === 'input') n += m.counters.records_out ?? 0;
      return n;
    };
    this.idleWatch = giveBackMemory(recordsIn, (reason, before, after) =>
      this.logger.debug({ rss_before: before, rss_after: after }, `${reason}: gave back unused memory`),
    );
  }

  metrics(): InstanceMetrics[] {
    return this.engine?.metrics() ?? [];
  }

  /**
   * On reload: a new log_file (or its rotation) opens a new log and closes the old one; a new
   * log_level applies at once. Kept even if the new pipeline then fails to start.
   */
  private async applyLog(b: AgentConfig['service']): Promise<void> {
    const a = this.config.service;
    if (a.log_file !== b.log_file || a.log_rotate_size !== b.log_rotate_size || a.log_rotate_num !== b.log_rotate_num) {
      const old = this.log!;
      this.log = this.newLog(b);
      old.logger.info({ log_file: b.log_file || 'stderr' }, `the agent's log continues in ${b.log_file || 'stderr'}`);
      await old.close();
    } else if (a.log_level !== b.log_level) this.logger.level = b.log_level;
  }

  /** On reload: move the metrics endpoint when http_listen changed (closed first: it may keep its port). */
  private async applyHttp(a: string, b: string): Promise<void> {
    if (a === b) return;
    await this.http?.close();
    this.http = undefined;
    if (!b) return void this.logger.info('metrics endpoint closed (http_listen is empty)');
    try {
      this.http = await this.startHttp(b);
    } catch (e) {
      this.logger.error(
        { err: e },
        `cannot serve metrics on ${b} (${(e as Error).message}); the pipeline runs without a metrics endpoint until the next reload`,
      );
    }
  }

  /** Re-read the config; keep running on the old one if the new one is invalid. Returns true if reloaded. */
  reload(): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      if (this.stopping) return false;
      let next: AgentConfig;
      try {
        next = await this.load();
      } catch (e) {
        const detail = e instanceof ConfigError ? e.issues.map(String) : [(e as Error).message];
        this.logger.error({ errors: detail }, `reload rejected, still running the previous config:\n${detail.join('\n')}`);
        return false;
      }
      this.logger.info('reloading: draining the current pipeline');
      const lost = await this.engine!.stop();
      // The agent's own log first, so the new pipeline logs where the new config says.
      await this.applyLog(next.service);
      try {
        this.engine = await this.startEngine(next);
        const prev = this.config;
        this.config = next;
        await this.applyHttp(prev.service.http_listen, next.service.http_listen);
        this.logger.info({ lost }, 'reload complete');
        return true;
      } catch (e) {
        this.logger.error({ err: e }, `reload failed while starting the new pipeline (${(e as Error).message}); restarting the previous one`);
        try {
          this.engine = await this.startEngine(this.config);
        } catch (e2) {
          // Neither pipeline starts: nothing can be collected, so say so and stop (exit 1).
          this.logger.fatal({ err: e2 }, `the previous pipeline failed to restart too (${(e2 as Error).message}); exiting`);
          this.engine = undefined;
          this.onFatal?.();
        }
        return false;
      }
    };
    const p = this.reloading.then(run, run);
    this.reloading = p;
    return p;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.reloading.catch(() => undefined);
      this.logger.info(`stopping: draining outputs (up to ${this.config.service.grace} ms)`);
      const lost = (await this.engine?.stop()) ?? 0;
      await this.http?.close();
      this.logger.info({ lost }, lost ? `stopped; ${lost} records were not delivered in time and will be re-read where the input tracks offsets` : 'stopped');
      clearInterval(this.keepAlive);
      clearInterval(this.idleWatch);
      await this.log?.close();
    })();
    return this.stopping;
  }
}

/**
 * Run until a signal ends it. Resolves with the process exit code. The signal handlers are
 * installed before the pipeline starts: inputs emit as soon as they start, and a SIGTERM that
 * arrives while the agent is still starting must drain too (it stops once start has finished),
 * not kill the process with records in flight.
 */
export interface RunOptions {
  /** Called once the pipeline runs (e.g. to print "listening on ...": only true once started). */
  onStarted?: () => void;
}

export async function runAgent(config: AgentConfig, load: ConfigLoader, opts: RunOptions = {}): Promise<number> {
  const agent = new Agent(config, load);
  let started = false;
  let stopSignal: NodeJS.Signals | undefined;
  let signals = 0;
  let done!: (code: number) => void;
  const exit = new Promise<number>((r) => (done = r));
  const stop = (sig: NodeJS.Signals) => {
    agent.logger.info(`${sig} received`);
    agent.stop().then(
      () => done(0),
      (e) => {
        process.stderr.write(`qlog: error while stopping: ${(e as Error).message}\n`);
        done(1);
      },
    );
  };
  const onStop = (sig: NodeJS.Signals) => {
    if (++signals > 1) {
      agent.logger.warn(`second ${sig}: exiting at once`);
      process.exit(1);
    }
    if (started) stop(sig);
    else stopSignal = sig;
  };
  const onHup = () => {
    if (!started || stopSignal) return agent.logger.warn('SIGHUP ignored: the agent is still starting');
    agent.logger.info('SIGHUP received: reloading config');
    void agent.reload();
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  // A plugin's own timer or socket handler that throws must not take the agent down:
  // log it with its stack, count it, keep collecting.
  const contain = (kind: string) => (e: unknown) => {
    try {
      agent.logger.error({ err: e }, `${kind} (a plugin's callback threw; the agent keeps running): ${(e as Error)?.message ?? String(e)}`);
    } catch {
      process.stderr.write(`qlog: ${kind}: ${String(e)}\n`);
    }
  };
  process.on('uncaughtException', contain('uncaught exception'));
  process.on('unhandledRejection', contain('unhandled rejection'));
  agent.onFatal = () => {
    void agent.stop().finally(() => done(1));
  };
  try {
    await agent.start();
  } catch (e) {
    process.stderr.write(`qlog: failed to start: ${(e as Error).message}\n`);
    try {
      agent.logger.fatal({ err: e }, 'failed to start');
      await agent.stop();
    } catch {
      /* already reported */
    }
    return 1;
  }
  started = true;
  opts.onStarted?.();
  if (stopSignal) stop(stopSignal);
  return exit;
}
