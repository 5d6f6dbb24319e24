/**
 * The fault-suite rig: two real agents over a unix socket, a log file the enclave tails, the
 * parent's workspace the checker reads.
 *
 *   enclave (tail <dir>/app.log -> vsock-forward connect unix://<dir>/link.sock)
 *     [-> cuttable proxy <dir>/link.sock -> <dir>/parent.sock]    (with `proxy: true`)
 *   parent  (vsock listen unix://<dir>/parent.sock -> rotated-file <ws>/out.log)
 * or, with `layout: 'enclave-listens'` (qlog's layout), the enclave listens on <dir>/enclave.sock
 * and the parent connects (to link.sock through the proxy, or straight to enclave.sock).
 *
 * Configs are written as JSON (a subset of YAML), from objects the cases can override.
 * Every process is owned by the test: killed (SIGKILL, by pid) when the test ends.
 */
import type { TestContext } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../helpers/wait.js';
import { checkLines, readRotated, type CheckResult } from '../../helpers/checker.js';
import { startProxy, type StreamProxy } from '../../helpers/proxy.js';
import { startWriter, type WriterOptions, type WriterSummary } from '../../helpers/writer.js';
import { openSealedLines, sealKeys, type Opened, type SealKeys } from '../../helpers/sealed.js';
import { AgentProcess } from './agents.js';

export type Obj = Record<string, unknown>;

export interface FinalResult extends CheckResult {
  /** Exit codes of the graceful stops (0 = clean). */
  exit: { enclave: number | null; parent: number | null };
}

export interface RigOptions {
  /** Put a cuttable proxy between the agents. */
  proxy?: boolean;
  /**
   * Who listens: the parent (default: enclave connects to <dir>/parent.sock) or the enclave
   * (qlog's layout: the parent connects to <dir>/enclave.sock).
   */
  layout?: 'parent-listens' | 'enclave-listens';
  /** Workspace directory (default <dir>/ws), e.g. a tmpfs mount point. */
  workspace?: string;
  /** Merged into the tail input's options. */
  tail?: Obj;
  /** Merged into the vsock-forward output's options. */
  forward?: Obj;
  /** Merged into the vsock input's options. */
  vsock?: Obj;
  /** Merged into the rotated-file output's options. */
  file?: Obj;
  /** Merged into each agent's service section. */
  enclaveService?: Obj;
  parentService?: Obj;
  /** Extra outputs of the parent (after rotated-file). */
  parentOutputs?: Obj[];
  /** Keep the temp dir (for debugging: QLOG_FAULTS_KEEP=1 keeps every dir). */
  keep?: boolean;
  /**
   * Sealing on (docs/sealing.md): the enclave seals (vsock-forward seal: to a key made in the
   * dir), the parent stores units, and lines()/check() open them first (core/seal's opener).
   * 'unseal': the parent is a trusted aggregator instead (vsock unseal: with the key) and writes
   * the plain records.
   */
  seal?: boolean | 'unseal';
}

export const LINE_PREFIX = 'L';
export const OUT_FILE = 'out.log';

export class Rig {
  readonly dir: string;
  readonly log: string;
  readonly ws: string;
  /** The listening agent's socket (parent.sock, or enclave.sock in the enclave-listens layout). */
  readonly listenSock: string;
  /** Where the connecting agent dials (link.sock with a proxy, else listenSock). */
  readonly linkSock: string;
  readonly enclaveListens: boolean;
  readonly parent: AgentProcess;
  readonly enclave: AgentProcess;
  proxy?: StreamProxy;
  /** The age key the enclave seals to (with `seal`). */
  readonly sealKey?: SealKeys;
  private readonly writers = new Set<{ kill(): boolean; exitCode: number | null }>();

  constructor(
    t: TestContext,
    public o: RigOptions = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'qlog-faults-'));
    this.log = join(this.dir, 'app.log');
    this.ws = o.workspace ?? join(this.dir, 'ws');
    this.enclaveListens = o.layout === 'enclave-listens';
    this.listenSock = join(this.dir, this.enclaveListens ? 'enclave.sock' : 'parent.sock');
    this.linkSock = o.proxy ? join(this.dir, 'link.sock') : this.listenSock;
    mkdirSync(join(this.dir, 'logs'));
    if (o.seal) this.sealKey = sealKeys(this.dir);
    this.parent = AgentProcess.withConfig('parent', this.dir, this.parentConfig());
    this.enclave = AgentProcess.withConfig('enclave', this.dir, this.enclaveConfig());
    t.after(async () => {
      for (const w of this.writers) if (w.exitCode === null) w.kill();
      this.enclave.signal('SIGKILL');
      this.parent.signal('SIGCONT');
      this.parent.signal('SIGKILL');
      await this.proxy?.close();
      if (!o.keep && !process.env.QLOG_FAULTS_KEEP) rmSync(this.dir, { recursive: true, force: true });
      else console.log(`# kept ${this.dir}`);
    });
  }

  parentConfig(extraOutputs: Obj[] = this.o.parentOutputs ?? []): string {
    const cfg = {
      service: { log_level: 'info', state_dir: join(this.dir, 'pstate'), grace: '5s', http_listen: '127.0.0.1:0', ...this.o.parentService },
      pipeline: {
        inputs: [
          this.enclaveListens
            ? { name: 'vsock', alias: 'link', connect: `unix://${this.linkSock}`, reconnect_base: '100ms', reconnect_max: '1s', ...this.o.vsock }
            : { name: 'vsock', alias: 'link', listen: `unix://${this.listenSock}`, ...this.o.vsock },
        ].map((i) => (this.o.seal === 'unseal' ? { ...i, unseal: { identity_file: this.sealKey!.identityFile } } : i)),
        outputs: [
          { name: 'rotated-file', alias: 'file', match: '*', workspace: this.ws, file: OUT_FILE, rotate_size: '1MB', rotate_num: 1000, ...this.o.file },
          ...extraOutputs,
        ],
      },
    };
    return `${JSON.stringify(cfg, null, 2)}\n`;
  }

  enclaveConfig(): string {
    const cfg = {
      service: { log_level: 'info', state_dir: join(this.dir, 'estate'), grace: '5s', http_listen: '127.0.0.1:0', ...this.o.enclaveService },
      pipeline: {
        inputs: [{ name: 'tail', alias: 'app', tag: 'app', path: this.log, read_from_head: true, ...this.o.tail }],
        outputs: [
          {
            name: 'vsock-forward',
            alias: 'fwd',
            match: '*',
            ...(this.enclaveListens
              ? { listen: `unix://${this.listenSock}` }
              : { connect: `unix://${this.linkSock}`, reconnect_base: '100ms', reconnect_max: '1s' }),
            workers: 4,
            ...(this.sealKey ? { seal: { recipients: [this.sealKey.recipient] } } : {}),
            ...this.o.forward,
          },
        ],
      },
    };
    return `${JSON.stringify(cfg, null, 2)}\n`;
  }

  /** Change options and rewrite both config files (takes effect at the next start or SIGHUP). */
  configure(patch: Partial<RigOptions>): void {
    this.o = { ...this.o, ...patch };
    this.parent.rewrite(this.parentConfig());
    this.enclave.rewrite(this.enclaveConfig());
  }

  /** Start the proxy (if any), the parent, then the enclave; resolves once both logged "started". */
  async start(): Promise<void> {
    if (this.o.proxy) {
      this.proxy = await startProxy({ path: this.linkSock }, { path: this.listenSock });
    }
    await this.startParent();
    await this.startEnclave();
  }

  async startParent(): Promise<void> {
    await startAndWait(this.parent);
  }

  async startEnclave(): Promise<void> {
    await startAndWait(this.enclave);
  }

  /** SIGKILL one agent three times (after 1.2, 1.7, 1.3 s), restarting it 0.3 s after each kill. */
  async killLoop(agent: 'enclave' | 'parent'): Promise<void> {
    for (const at of [1200, 1700, 1300]) {
      await sleep(at);
      await this[agent].kill9();
      await sleep(300);
      await (agent === 'enclave' ? this.startEnclave() : this.startParent());
    }
  }

  /** Run the writer on the tailed file (test/helpers/writer.ts). */
  writer(opts: Omit<WriterOptions, 'path' | 'prefix'>): Promise<WriterSummary> {
    const w = startWriter({ path: this.log, prefix: LINE_PREFIX, ...opts });
    this.writers.add(w.proc);
    return w.done;
  }

  /** Every line in the parent's output file and its rotations (with `seal`: the opened units' lines). */
  lines(base = OUT_FILE, dir = this.ws): string[] {
    return this.o.seal === true ? this.opened(base, dir).lines : readRotated(dir, base);
  }

  /** With `seal`: the parent's units opened in file order, with what the verifier found. */
  opened(base = OUT_FILE, dir = this.ws): Opened {
    if (!this.sealKey) throw new Error('opened(): the rig does not seal');
    return openSealedLines(readRotated(dir, base, true), this.sealKey.identityFile);
  }

  check(first: number, last: number, base = OUT_FILE, dir = this.ws): CheckResult {
    return checkLines(this.lines(base, dir), LINE_PREFIX, first, last);
  }

  /**
   * Poll until every line of [first, last] arrived (or `ms` passed); returns the last check.
   * Agents are not stopped: call finish() for the final figures.
   */
  async waitArrived(first: number, last: number, ms = 60_000, base = OUT_FILE, dir = this.ws): Promise<CheckResult> {
    let r: CheckResult = this.check(first, last, base, dir);
    // Running out of time is not a failure here: some cases expect lost lines (5b), and the
    // caller's assertions on finish() say what was lost.
    await waitFor(() => (r = this.check(first, last, base, dir)).lost === 0, { timeoutMs: ms, intervalMs: 250 }).catch(() => undefined);
    return r;
  }

  /** Graceful stop of both agents (enclave first, so its last acks come back), then the final check. */
  async finish(first: number, last: number): Promise<FinalResult> {
    const enclave = await this.enclave.stop();
    const parent = await this.parent.stop();
    await this.proxy?.close();
    return { ...this.check(first, last), exit: { enclave, parent } };
  }

  /** Counters of every plugin instance of a running agent, by instance id (from its metrics endpoint). */
  async metrics(which: 'enclave' | 'parent'): Promise<Record<string, Record<string, number>>> {
    const list = (await this.api(which, 'metrics')) as { id: string; counters: Record<string, number> }[];
    return Object.fromEntries(list.map((m) => [m.id, m.counters]));
  }

  /** The agent's process gauges (/api/v1/process: RSS, heap, external memory ...). */
  async processMetrics(which: 'enclave' | 'parent'): Promise<Record<string, number>> {
    return (await this.api(which, 'process')) as Record<string, number>;
  }

  private async api(which: 'enclave' | 'parent', what: string): Promise<unknown> {
    const a = which === 'enclave' ? this.enclave : this.parent;
    const urls = [...a.stderr().matchAll(/metrics on (http:\/\/[^/"]+)\/metrics/g)];
    const base = urls.at(-1)?.[1];
    if (!base) throw new Error(`${which} has no metrics endpoint in its log`);
    const r = await fetch(`${base}/api/v1/${what}`, { signal: AbortSignal.timeout(5000) });
    return r.json();
  }

  /** The enclave's committed tail offsets (state file), by file key. */
  committedOffsets(): { path: string; offset: number; sid: string; gen: number }[] {
    try {
      const s = JSON.parse(readFileSync(join(this.dir, 'estate', 'app.offsets.json'), 'utf8')) as {
        files: Record<string, { path: string; offset: number; sid: string; gen: number }>;
      };
      return Object.values(s.files);
    } catch {
      return [];
    }
  }

  /** Agent logs (pino JSON lines on stderr) at level >= warn, for failure messages, and the info lines whose message matches `also` (in full). */
  problems(which: 'enclave' | 'parent', max = 15, also?: RegExp): string {
    const a = which === 'enclave' ? this.enclave : this.parent;
    const out: string[] = [];
    for (const l of a.stderr().split('\n')) {
      if (!l) continue;
      try {
        const j = JSON.parse(l) as { level?: number; msg?: string };
        if ((j.level ?? 0) >= 40) out.push(`${which}: ${j.msg}`);
        else if (also?.test(j.msg ?? '')) out.push(`${which}: ${l.slice(0, 400)}`);
      } catch {
        out.push(`${which}: ${l.slice(0, 200)}`);
      }
    }
    return out.slice(-max).join('\n');
  }

  /** A one-line summary for assertion messages. */
  describe(r: CheckResult, also?: RegExp): string {
    return (
      `expected ${r.expected}, arrived ${r.arrived}, lost ${r.lost} [${r.lostRanges}], duplicated ${r.duplicated} ${JSON.stringify(r.duplicatedLines.slice(0, 10))}, altered ${r.altered}` +
      (r.altered ? ` ${JSON.stringify(r.alteredLines)}` : '') +
      (r.foreign.length ? `, foreign ${JSON.stringify(r.foreign.slice(0, 3))}` : '') +
      `\n${this.problems('enclave', also ? 60 : 15, also)}\n${this.problems('parent')}\n(dir ${this.dir})`
    );
  }
}

async function startAndWait(a: AgentProcess): Promise<void> {
  const before = a.stderr().length;
  a.start();
  await waitFor(() => a.stderr().slice(before).includes(' started with ') || a.proc!.exitCode !== null, {
    timeoutMs: 20_000,
    intervalMs: 50,
    what: () => `${a.name} to log "started with":\n${a.stderr().slice(before, before + 4000)}`,
  });
  if (a.proc!.exitCode !== null) throw new Error(`${a.name} did not start (exit ${a.proc!.exitCode}):\n${a.stderr().slice(before, before + 4000)}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
