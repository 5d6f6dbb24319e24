/**
 * Processing cost: records/s and CPU seconds per million lines of tail with no parser (lines stay
 * bytes: the baseline), with the json parser, and with multiline java; and, with
 * FLUENT_BIT=/path/to/fluent-bit, Fluent Bit on the same files (tail with parser json /
 * multiline.parser java -> stdout json_lines).
 *   node --import tsx test/bench/processing.bench.ts [lines]   (QLOG_BENCH_SMOKE=1: 2,000 lines)
 * 1. the follower alone: the no-parser path hands LineBlocks on (no record is built) and the
 *    multiline path, in this process (process.cpuUsage);
 * 2. the real agents, runs interleaved (A B C A B C ...), CPU read from /proc from the first
 *    output to the last (start-up excluded): the machine is shared, so CPU is the figure to trust.
 * Writes its section of docs/benchmarks.md (between <!-- processing --> markers) on a full run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultilineSet } from '../../core/multiline/ml-registry.js';
import { Follower, type FollowerSink } from '../../plugins/tail/tail-follower.js';
import { withTimeout } from '../helpers/wait.js';
import { procStats, ROOT } from './agents.js';
import { followerOptions, QUIET_SINK } from './tail.bench.js';
import { check, SMOKE, size } from './smoke.js';

const CLI = join(ROOT, 'dist/core/cli/main.js');
const FLUENT_BIT = process.env.FLUENT_BIT;
const LINES = Number(process.argv[2] ?? process.env.LINES ?? size(1_000_000, 2_000));
const ROUNDS = Number(process.env.ROUNDS ?? size(3, 1));

type Kind = 'plain' | 'json' | 'java';
interface Input {
  kind: Kind;
  path: string;
  lines: number;
  /** Records the input makes (java: log lines + joined traces). */
  records: number;
}

/** A trace of 11 lines after 9 log lines: 20 lines, 10 records. */
function javaGroup(i: number): string {
  let s = '';
  for (let k = 0; k < 9; k++) s += `2026-01-01 00:00:00.${String(k).padStart(3, '0')} INFO  [exec-${k}] c.e.o.OrderController - GET /orders/${i} 200 ${k}ms\n`;
  s += `com.example.orders.CheckoutException: order ${i} has no lines\n`;
  for (let f = 0; f < 8; f++) s += `\tat com.example.orders.Step${f}.run(Step${f}.java:${10 + f})\n`;
  return `${s}Caused by: java.lang.IllegalStateException: inner ${i}\n\t... 8 more\n`;
}

async function generate(dir: string, kind: Kind, lines: number): Promise<Input> {
  const path = join(dir, `${kind}.log`);
  const out = createWriteStream(path);
  let buf = '';
  let n = 0;
  let records = 0;
  while (n < lines) {
    if (kind === 'java') {
      buf += javaGroup(n);
      n += 20;
      records += 10;
    } else {
      buf +=
        kind === 'plain'
          ? `2026-01-01T00:00:00.${String(n % 1000).padStart(3, '0')}Z INFO service[4242]: request ${n} handled in ${n % 997} ms path=/api/v1/items\n`
          : `{"time":"2026-01-01T00:00:00.${String(n % 1000).padStart(3, '0')}Z","level":"info","msg":"request handled","n":${n},"ms":${n % 997},"path":"/api/v1/items"}\n`;
      n++;
      records++;
    }
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  // A last log line: the last trace is complete without waiting for flush_timeout.
  if (kind === 'java') {
    buf += '2026-01-01 00:00:01.000 INFO  [main] c.e.o.Health - done\n';
    n++;
    records++;
  }
  out.end(buf);
  await once(out, 'finish');
  return { kind, path, lines: n, records };
}

interface Figure {
  name: string;
  lines: number;
  records: number;
  /** Seconds from the first output to the last. */
  wall: number;
  /** CPU seconds (user + system) in that time. */
  cpu: number;
}

/** The follower alone: the no-parser path must hand LineBlocks on; multiline builds records. */
async function follower(input: Input, multiline: boolean): Promise<Figure> {
  const dir = mkdtempSync(join(tmpdir(), 'qlog-bench-proc-f-'));
  let records = 0;
  let built = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const want = multiline ? input.records : input.lines;
  const take = (n: number, onSettled: () => void) => {
    records += n;
    setImmediate(onSettled);
    if (records >= want) done();
    return true;
  };
  const sink: FollowerSink = {
    emitLines: (_tag, block, _bytes, onSettled) => take(block.count, onSettled),
    emitRecords(_tag, recs, _bytes, onSettled) {
      built += recs.length;
      return take(recs.length, onSettled);
    },
    ...QUIET_SINK,
  };
  const f = new Follower(
    {
      ...followerOptions(input.path, dir, 256 * 1024),
      multiline: multiline
        ? { machine: new MultilineSet().machine('java', undefined, { flushMs: 60_000 }), limits: { maxLines: 1000, maxBytes: 1 << 20, budgetMs: 50 } }
        : undefined,
    },
    sink,
  );
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f.start();
  await withTimeout(finished, size(300_000, 30_000), `the follower to emit ${want} records`);
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  await f.close();
  rmSync(dir, { recursive: true, force: true });
  check(records === want, `follower (${input.kind}) emitted ${records} records, want ${want}`);
  if (!multiline) check(built === 0, `without multiline no record may be built in tail (${built} were)`);
  return {
    name: `follower: ${input.kind}${multiline ? ', multiline java' : ', no parser (LineBlocks)'}`,
    lines: input.lines,
    records,
    wall,
    cpu: (c.user + c.system) / 1e6,
  };
}

/** Run an agent whose stdout prints one line per `unit` (a record, or a line); measure it from its first output. */
async function measure(name: string, child: ChildProcess, input: Input, countRecords: boolean, want: number): Promise<Figure> {
  let n = 0;
  let first: { t: number; cpu: number; n: number } | undefined;
  const fig = await new Promise<Figure>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: timed out after ${n} of ${want}`)), size(600_000, 60_000));
    child.stdout!.on('data', (d: Buffer) => {
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) n++;
      if (!first) first = { t: performance.now(), cpu: procStats(child.pid!).cpu, n };
      if (n >= want) {
        clearTimeout(timer);
        const cpu = procStats(child.pid!).cpu - first.cpu;
        const wall = (performance.now() - first.t) / 1000;
        // Scale to the whole input: the first output's batch was processed before the clock started.
        const part = (want - first.n) / want;
        resolve({ name, lines: input.lines, records: countRecords ? want : input.records, wall: wall / part, cpu: cpu / part });
      }
    });
    child.once('exit', (code) => reject(new Error(`${name}: exited (${code}) after ${n} of ${want}`)));
  }).finally(() => {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  });
  if (child.exitCode === null) await once(child, 'exit');
  check(n === want, `${name}: ${n} output lines, want ${want}`);
  return fig;
}

function qlog(dir: string, input: Input, option: string): Promise<Figure> {
  const cfg = join(dir, `q-${input.kind}.yaml`);
  rmSync(join(dir, 'state'), { recursive: true, force: true });
  writeFileSync(
    cfg,
    `service:\n  log_level: warn\n  state_dir: ${dir}/state\npipeline:\n  inputs:\n    - name: tail\n      path: ${input.path}\n      read_from_head: true\n${option ? `      ${option}\n` : ''}  outputs:\n    - name: stdout\n      format: line\n`,
  );
  const child = spawn(CLI, ['run', cfg], { stdio: ['ignore', 'pipe', 'inherit'] });
  // format line prints a joined trace's lines as they were: one output line per input line.
  return measure(`qlog: tail${option ? ` ${option}` : ' (no parser)'} -> stdout`, child, input, false, input.lines);
}

function fluentBit(dir: string, input: Input): Promise<Figure> {
  const cfg = join(dir, `fb-${input.kind}.conf`);
  const parsers = join(dir, 'fb-parsers.conf');
  writeFileSync(parsers, '[PARSER]\n    Name json\n    Format json\n');
  const option = input.kind === 'json' ? '    Parser json\n' : input.kind === 'java' ? '    multiline.parser java\n' : '';
  writeFileSync(
    cfg,
    `[SERVICE]\n    Flush 0.2\n    Grace 1\n    Log_Level error\n    Parsers_File ${parsers}\n[INPUT]\n    Name tail\n    Path ${input.path}\n    Read_from_Head true\n    Buffer_Chunk_Size 256k\n    Buffer_Max_Size 256k\n${option}[OUTPUT]\n    Name stdout\n    Match *\n    Format json_lines\n`,
  );
  const child = spawn(FLUENT_BIT!, ['-q', '-c', cfg], { stdio: ['ignore', 'pipe', 'ignore'] });
  const what = input.kind === 'json' ? ' Parser json' : input.kind === 'java' ? ' multiline.parser java' : ' (no parser)';
  return measure(`Fluent Bit: tail${what} -> stdout json_lines`, child, input, true, input.records);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function row(fs: Figure[]): string {
  const f = fs[0]!;
  const wall = median(fs.map((x) => x.wall));
  const cpu = median(fs.map((x) => x.cpu));
  return `| ${f.name} | ${(f.records / wall / 1e3).toFixed(0)} k | ${(f.lines / wall / 1e3).toFixed(0)} k | ${((cpu / f.lines) * 1e6).toFixed(2)} s |`;
}

const dir = mkdtempSync(join(tmpdir(), 'qlog-bench-proc-'));
try {
  const inputs = {
    plain: await generate(dir, 'plain', LINES),
    json: await generate(dir, 'json', LINES),
    java: await generate(dir, 'java', LINES),
  };
  const rows: string[] = [];
  rows.push(row([await follower(inputs.plain, false)]), row([await follower(inputs.java, true)]));
  if (existsSync(CLI)) {
    const runs: [string, () => Promise<Figure>][] = [
      ['a', () => qlog(dir, inputs.plain, '')],
      ['b', () => qlog(dir, inputs.json, 'parser: json')],
      ['c', () => qlog(dir, inputs.java, 'multiline: java')],
    ];
    if (FLUENT_BIT) {
      runs.push(['fa', () => fluentBit(dir, inputs.plain)], ['fb', () => fluentBit(dir, inputs.json)], ['fc', () => fluentBit(dir, inputs.java)]);
    }
    const got = new Map<string, Figure[]>();
    for (let r = 0; r < ROUNDS; r++) for (const [k, run] of runs) got.set(k, [...(got.get(k) ?? []), await run()]);
    for (const [, fs] of got) rows.push(row(fs));
  }
  const table = [
    `${LINES.toLocaleString('en')} lines per input (plain ~110 B, json ~130 B, java: 9 log lines + an 11-line trace, repeated); median of ${ROUNDS} interleaved runs, from the first output to the last (start-up excluded). qlog prints with stdout \`format: line\` (a joined trace as its lines); Fluent Bit with stdout \`json_lines\` (one record a line, so its output can be counted). "follower" rows: tail's reading and joining alone, in one process, with the JIT on (the agent runs with \`--no-opt\`).`,
    '',
    '| run | records/s | lines/s | CPU per million lines |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
  console.log(`processing (Node ${process.version}, ${cpus().length} CPUs)\n${table}`);
  if (!SMOKE && LINES >= 1_000_000) {
    const docs = join(ROOT, 'docs', 'benchmarks.md');
    const section = `<!-- processing -->\n## Processing: tail with no parser, the json parser, multiline java\n\nGenerated by test/bench/processing.bench.ts on ${new Date().toISOString().slice(0, 10)}${FLUENT_BIT ? ', with Fluent Bit on the same files' : ''}.\n\n${table}\n\nReproduce: \`npm run build && node --import tsx test/bench/processing.bench.ts\` (\`FLUENT_BIT=/path/to/fluent-bit\` adds its rows).\n<!-- /processing -->\n`;
    const md = readFileSync(docs, 'utf8');
    const a = md.indexOf('<!-- processing -->');
    const b = md.indexOf('<!-- /processing -->');
    writeFileSync(docs, a >= 0 && b > a ? md.slice(0, a) + section + md.slice(b + '<!-- /processing -->\n'.length) : `${md.trimEnd()}\n\n${section}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
