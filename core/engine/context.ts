/** Pieces every plugin instance has: id, options, child logger, counters, service info. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { InstanceCounters } from '../counters.js';
import type { AnyPlugin, ServiceInfo } from '../plugin/define.js';
import type { EntryConfig } from '../config/load.js';
import { QlogError } from '../errors.js';

export class InstanceBase {
  readonly id: string;
  readonly name: string;
  readonly plugin: AnyPlugin;
  readonly options: Record<string, unknown>;
  readonly common: Record<string, unknown>;
  readonly log: Logger;
  readonly counters = new InstanceCounters();
  constructor(
    entry: EntryConfig,
    logger: Logger,
    readonly service: ServiceInfo,
  ) {
    this.id = entry.id;
    this.name = entry.plugin.name;
    this.plugin = entry.plugin;
    this.options = entry.options;
    this.common = entry.common;
    this.log = logger.child({ plugin: entry.id });
  }

  statePath(file: string): string {
    return join(this.service.stateDir, `${this.id}.${file}`);
  }

  /** The context object handed to the plugin's setup(). */
  baseContext() {
    return {
      id: this.id,
      name: this.name,
      options: this.options,
      log: this.log,
      counters: this.counters,
      service: this.service,
      statePath: (file: string) => this.statePath(file),
    };
  }

  /** Count and log a plugin failure without letting it escape. */
  fail(stage: string, err: unknown): void {
    this.counters.add('errors');
    this.log.error({ err, stage }, `${this.id}: ${stage} failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** Run a plugin phase with a time limit so a hanging plugin cannot block the agent. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QlogError('QLOG_ERR_PLUGIN_TIMEOUT', { what, ms })), ms);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
