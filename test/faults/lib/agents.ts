/** Spawning and controlling real agent processes for the fault suite. */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, shebangEnv, shebangNodeArgs } from '../../helpers/cli.js';

export class AgentProcess {
  proc?: ChildProcess;
  exits: (number | null)[] = [];
  /** Node options for the agent process: those of the CLI's shebang (plus e.g. --trace-gc while investigating). */
  nodeArgs: string[] = shebangNodeArgs();
  private exited?: Promise<number | null>;
  constructor(
    readonly name: string,
    readonly dir: string,
    readonly configFile: string,
    readonly argv: string[] = ['run', configFile],
  ) {}

  static withConfig(name: string, dir: string, yaml: string): AgentProcess {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, yaml);
    return new AgentProcess(name, dir, file);
  }

  rewrite(yaml: string): void {
    writeFileSync(this.configFile, yaml);
  }

  start(): this {
    const log = openSync(join(this.dir, `${this.name}.stderr`), 'a');
    const out = openSync(join(this.dir, `${this.name}.stdout`), 'a');
    // As `qlog` runs: the shebang's environment (MALLOC_ARENA_MAX) and node options.
    const env = { ...process.env, ...Object.fromEntries(shebangEnv().map((a) => a.split('=', 2) as [string, string])) };
    this.proc = spawn(process.execPath, [...this.nodeArgs, CLI, ...this.argv], { cwd: this.dir, env, stdio: ['ignore', out, log] });
    closeSync(log);
    closeSync(out);
    const p = this.proc;
    this.exited = new Promise((r) => p.once('exit', (code, sig) => r(code ?? (sig ? -1 : null))));
    void this.exited.then((c) => this.exits.push(c));
    return this;
  }

  get pid(): number {
    return this.proc!.pid!;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) process.kill(this.pid, sig);
  }

  /** Wait for exit (after a signal); SIGKILL after `ms`. */
  async wait(ms = 15_000): Promise<number | null> {
    const t = setTimeout(() => this.signal('SIGKILL'), ms);
    try {
      return (await this.exited) ?? null;
    } finally {
      clearTimeout(t);
    }
  }

  async stop(): Promise<number | null> {
    this.signal('SIGTERM');
    return this.wait();
  }

  kill9(): Promise<number | null> {
    this.signal('SIGKILL');
    return this.wait();
  }

  /** Resident set size in bytes (from /proc), or 0 if the process is gone. */
  rss(): number {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  }

  stderr(): string {
    try {
      return readFileSync(join(this.dir, `${this.name}.stderr`), 'utf8');
    } catch {
      return '';
    }
  }
}
