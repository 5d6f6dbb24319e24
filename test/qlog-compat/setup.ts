/**
 * End-to-end setup for the qlog commands: the guide's config rewritten to temp paths, both
 * commands started over a Unix socket (--transport), and helpers to write and read the logs.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, type RunningCli } from '../helpers/cli.js';
import type { HasAfter } from '../helpers/tmp.js';
import { GUIDE_CONFIG } from './guide.js';

export interface Layout {
  dir: string;
  config: string;
  /** The service log "inside the enclave". */
  serviceLog: string;
  /** monitor's workspace (server.log) and the parent's (-w). */
  enclaveWs: string;
  parentWs: string;
  socket: string;
}

export function layout(dir: string, o: { rotateSize?: number; rotateNum?: number; interval?: number } = {}): Layout {
  const l: Layout = {
    dir,
    config: join(dir, 'config_qlog.toml'),
    serviceLog: join(dir, 'enclave', 'service.log'),
    enclaveWs: join(dir, 'enclave', 'qlog'),
    parentWs: join(dir, 'parent', 'qlog'),
    socket: join(dir, 'q.sock'),
  };
  mkdirSync(join(dir, 'enclave'), { recursive: true });
  mkdirSync(l.parentWs, { recursive: true });
  const text = GUIDE_CONFIG.replace('workspace: /var/log/qlog', `workspace: ${l.enclaveWs}`)
    .replace('monitor_path: /var/log/service.log', `monitor_path: ${l.serviceLog}`)
    .replace('monitor_internel: 15', `monitor_internel: ${o.interval ?? 1}`)
    .replace('rotate_size: 65536', `rotate_size: ${o.rotateSize ?? 65536}`)
    .replace('rotate_num: 10', `rotate_num: ${o.rotateNum ?? 10}`);
  writeFileSync(l.config, text);
  return l;
}

export function startMonitor(l: Layout, owner: HasAfter, extra: string[] = []): RunningCli {
  return startCli(['monitor', '--transport', `unix://${l.socket}`, ...extra, l.config], { cwd: l.dir, owner, killAfterMs: 60_000 });
}

export function startReceiver(l: Layout, owner: HasAfter, extra: string[] = []): RunningCli {
  return startCli(['receive-file', '--transport', `unix://${l.socket}`, '-w', l.parentWs, ...extra, '4', l.config], { cwd: l.dir, owner, killAfterMs: 60_000 });
}

/** The guide's start script: "<date> - Hello, service." lines, numbered so that sets can be compared. */
export class ServiceWriter {
  n = 0;
  readonly written: string[] = [];
  constructor(private readonly file: string) {}
  write(count = 1, pad = 0): void {
    let text = '';
    for (let i = 0; i < count; i++) {
      const line = `${new Date().toISOString().replace('T', ' ').slice(0, 19)} - Hello, service. #${++this.n}${pad ? ` ${'x'.repeat(pad)}` : ''}`;
      this.written.push(line);
      text += `${line}\n`;
    }
    appendFileSync(this.file, text);
  }
}

/** Rotated files of `name` in `ws`, oldest first, then the live file. */
export function generations(ws: string, name: string): string[] {
  const rotated = readdirSync(ws)
    .map((f) => /^(.*)\.(\d+)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === name)
    .sort((a, b) => Number(b[2]) - Number(a[2]))
    .map((m) => m[0]);
  return [...rotated, ...(existsSync(join(ws, name)) ? [name] : [])];
}

/** Everything written to `name` (rotated files, oldest first, then the live one), as lines. */
export function readLines(ws: string, name: string): string[] {
  // A rotation may rename a file between the listing and the read: list and read again.
  for (let attempt = 0; ; attempt++) {
    try {
      const text = generations(ws, name)
        .map((f) => readFileSync(join(ws, f), 'utf8'))
        .join('');
      return text ? text.replace(/\n$/, '').split('\n') : [];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 20) throw e;
    }
  }
}
