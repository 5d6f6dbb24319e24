/**
 * End-to-end benchmark (issues 7 and 16): two real agent processes,
 *   enclave: tail -> vsock-forward --unix socket, acks--> parent: vsock -> rotated-file
 * on a generated file of 1,000,000 lines of 126 bytes, against the physical limit: the same file
 * copied through a unix socket into a file by two socat processes, and by two `node -e` processes
 * (no processing). With FLUENT_BIT=/path/to/fluent-bit, Fluent Bit does the same in the same run
 * (tail -> forward with require_ack_response -> forward on a unix socket -> file, template `{log}`),
 * at three flush intervals; the best one is the comparison. Each is repeated RUNS times (3),
 * interleaved, and reported as median [min–max]. Then p50/p99 latency from append to arrival in the
 * parent's file at a steady 10,000 lines/s, and the enclave agent's RSS when idle.
 * Writes its sections of docs/benchmarks.md.
 * Run: npm run bench -- e2e   (env LINES=... to change the size, RUNS=... the repeats)
 * QLOG_BENCH_SMOKE=1: 5,000 lines, one run, 1 s of latency, short idle; checks only, docs/ untouched.
 * Exits 1 when an output is not the input (qlog and the copies: same bytes by SHA-256; Fluent Bit:
 * the same lines) or latency lines went missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { fileSize, listening, procStats, sameLines, spawnAgent, spawnTool, stop, writeLines } from './agents.js';
import { enclaveYaml, measure, parentYaml, qlogSystem, type Sample, type System } from './pair.js';
import { median, mib, provenance, RUNS, spread, writeSection } from './report.js';
import { check, SMOKE, size } from './smoke.js';

const LINES = Number(process.env.LINES ?? size(1_000_000, 5_000));
const LAT_RATE = 10_000;
const LAT_SECONDS = Number(process.env.LAT_SECONDS ?? size(10, 1));
const IDLE_MS = size(20_000, 500);
const AFTER_MS = size(15_000, 0);
const FLUENT_BIT = process.env.FLUENT_BIT;
const FB_FLUSH = [0.05, 0.2, 1];
const dir = mkdtempSync(join(tmpdir(), 'qlog-bench-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const input = join(dir, 'input.log');
const bytes = writeLines(input, LINES);
const expect = { bytes, compare: (out: string) => sameLines(input, out) };

/** Fluent Bit's two configs (classic format): the same pipeline as qlog's, flushing every `flush` s. */
const fbParentConf = (flush: number, sock: string, outDir: string) => `[SERVICE]
    flush     ${flush}
    grace     1
    log_level warn
[INPUT]
    name      forward
    unix_path ${sock}
[OUTPUT]
    name      file
    match     *
    path      ${outDir}
    file      out.log
    format    template
    template  {log}
`;
const fbEnclaveConf = (flush: number, sock: string, input: string, db: string) => `[SERVICE]
    flush     ${flush}
    grace     1
    log_level warn
[INPUT]
    name           tail
    path           ${input}
    read_from_head true
    db             ${db}
[OUTPUT]
    name                 forward
    match                *
    unix_path            ${sock}
    require_ack_response true
`;

const nodeCopy: System = {
  out: 'out',
  exits: true,
  receiver: (run, sock, out) =>
    spawn(
      process.execPath,
      [
        '-e',
        `const net=require('net'),fs=require('fs');const s=net.createServer(c=>{c.pipe(fs.createWriteStream(${JSON.stringify(out)})).on('finish',()=>process.exit())});s.listen(${JSON.stringify(sock)})`,
      ],
      { cwd: run, stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  sender: (run, sock) =>
    spawn(
      process.execPath,
      [
        '-e',
        `const net=require('net'),fs=require('fs');const c=net.connect(${JSON.stringify(sock)},()=>fs.createReadStream(${JSON.stringify(input)},{highWaterMark:1<<20}).pipe(c))`,
      ],
      { cwd: run, stdio: 'inherit' },
    ),
};

const socatCopy: System = {
  out: 'out',
  exits: true,
  receiver: (run, sock, out) => spawnTool(run, 'socat-recv', 'socat', ['-u', `UNIX-LISTEN:${sock}`, `CREATE:${out}`]),
  sender: (run, sock) => spawnTool(run, 'socat-send', 'socat', ['-u', `OPEN:${input},rdonly`, `UNIX-CONNECT:${sock}`]),
};

const qlog = qlogSystem(input);

function fluentBit(bin: string, flush: number): System {
  return {
    out: 'fb-out/out.log',
    exits: false,
    receiver: (run, sock) => {
      mkdirSync(join(run, 'fb-out'));
      writeFileSync(join(run, 'parent.conf'), fbParentConf(flush, sock, join(run, 'fb-out')));
      return spawnTool(run, 'fb-parent', bin, ['-c', join(run, 'parent.conf')]);
    },
    sender: (run, sock) => {
      writeFileSync(join(run, 'enclave.conf'), fbEnclaveConf(flush, sock, input, join(run, 'tail.db')));
      return spawnTool(run, 'fb-enclave', bin, ['-c', join(run, 'enclave.conf')]);
    },
  };
}

/** RSS of an enclave agent with nothing to do (following an empty file, connected, 20 s after start), and the CPU both agents spent to get there. */
async function idle() {
  const sock = join(dir, 'idle.sock');
  const log = join(dir, 'idle.log');
  writeFileSync(log, '');
  const parent = spawnAgent(dir, 'iparent', parentYaml(sock, join(dir, 'iws'), join(dir, 'ipstate')));
  await listening(sock);
  const enclave = spawnAgent(dir, 'ienclave', enclaveYaml(sock, log, join(dir, 'iestate')));
  // The figure is the RSS after IDLE_MS of doing nothing: this sleep is the measurement.
  await sleep(IDLE_MS);
  const e = procStats(enclave.pid!);
  const p = procStats(parent.pid!);
  await stop(enclave);
  await stop(parent);
  return { rss: e.rss, cpu: [e.cpu, p.cpu] };
}

async function latency() {
  const ws = join(dir, 'lws');
  const sock = join(dir, 'lat.sock');
  const log = join(dir, 'lat.log');
  writeFileSync(log, '');
  const parent = spawnAgent(dir, 'lparent', parentYaml(sock, ws, join(dir, 'lpstate')));
  await listening(sock);
  const enclave = spawnAgent(dir, 'lenclave', enclaveYaml(sock, log, join(dir, 'lestate')));
  const out = join(ws, 'out.log');
  // Start measuring once a first line went through both agents (start-up is not latency).
  writeFileSync(log, 'warm-up\n');
  await waitFor(() => fileSize(out) > 0, { timeoutMs: 30_000, what: "the warm-up line in the parent's file" });
  const total = LAT_RATE * LAT_SECONDS;
  // Writer in-process on a timer; reader polls the parent's file every millisecond.
  const origin = Date.now() - performance.now();
  const wfd = openSync(log, 'a');
  let written = 0;
  const t0 = performance.now();
  const writer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * LAT_RATE));
    let s = '';
    for (; written < due; written++) s += `t=${(origin + performance.now()).toFixed(3)} seq=${written} ${'y'.repeat(80)}\n`;
    if (s) writeFileSync(wfd, s);
  }, 1);
  const lat: number[] = [];
  let pos = 0;
  let rest = '';
  const buf = Buffer.alloc(1 << 20);
  const end = Date.now() + LAT_SECONDS * 1000 + 15_000;
  while (lat.length < total && Date.now() < end) {
    if (!existsSync(out)) {
      await sleep(1);
      continue;
    }
    const fd = openSync(out, 'r');
    for (;;) {
      if (fstatSync(fd).size <= pos) break;
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      pos += n;
      const now = origin + performance.now();
      const text = rest + buf.toString('utf8', 0, n);
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        const m = /^t=(\d+\.\d+) /.exec(l);
        if (m) lat.push(now - Number(m[1]));
      }
    }
    closeSync(fd);
    await sleep(1);
  }
  clearInterval(writer);
  closeSync(wfd);
  await stop(enclave);
  await stop(parent);
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { samples: lat.length, expected: total, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1] ?? NaN };
}

/** RSS of a Node process that does nothing, with the agent's V8 flags. */
function bareNodeRss(): number {
  const r = spawnSync(
    process.execPath,
    [
      '--max-semi-space-size=4',
      '-e',
      "setTimeout(() => console.log(/VmRSS:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]), 2000)",
    ],
    { encoding: 'utf8' },
  );
  return Number(r.stdout.trim()) * 1024;
}

function fluentBitVersion(bin: string): string {
  return /v\d+\.\d+\.\d+/.exec(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout)?.[0] ?? '(version unknown)';
}

const secs = (ms: number) => ms / 1000;
const cpuSum = (x: Sample) => x.cpu[0] + x.cpu[1];
const rows = (r: string[][]) => r.map((c) => `| ${c.join(' | ')} |`).join('\n');
const met = (ok: boolean) => (ok ? 'yes' : '**no**');

console.log(`generated ${LINES} lines, ${mib(bytes).toFixed(1)} MiB in ${input}; ${RUNS} run(s) of each system`);
if (spawnSync('socat', ['-V']).error) {
  console.error('bench check failed: socat is not installed (Debian/Ubuntu: apt-get install socat); the physical-limit copy needs it');
  process.exit(1);
}
const fbBin = FLUENT_BIT && existsSync(FLUENT_BIT) ? FLUENT_BIT : undefined;
if (FLUENT_BIT && !fbBin) check(false, `FLUENT_BIT=${FLUENT_BIT}: no such file`);
const samples = { node: [] as Sample[], socat: [] as Sample[], qlog: [] as (Sample & { afterRss: number })[], fb: FB_FLUSH.map(() => [] as Sample[]) };
for (let r = 0; r < RUNS; r++) {
  // Interleaved, so that a busy moment of the shared machine hits every system alike.
  const n = await measure(dir, nodeCopy, expect);
  const c = await measure(dir, socatCopy, expect);
  const q = await measure(dir, qlog, expect, r === RUNS - 1 ? AFTER_MS : 0);
  samples.node.push(n);
  samples.socat.push(c);
  samples.qlog.push(q);
  console.log(
    `run ${r + 1}: node copy ${secs(n.ms).toFixed(2)} s, socat copy ${secs(c.ms).toFixed(2)} s, qlog ${secs(q.ms).toFixed(2)} s (CPU ${cpuSum(q).toFixed(2)} s, RSS enclave ${mib(q.hwm[0]).toFixed(1)} MiB, parent ${mib(q.hwm[1]).toFixed(1)} MiB)`,
  );
  check(n.inOrder && c.inOrder, `a raw copy is not the input (node ${n.got}, socat ${c.got} of ${bytes} bytes)`);
  check(q.inOrder, `qlog: the parent's file is not the input (${q.got} of ${bytes} bytes, or different bytes)`);
  if (!fbBin) continue;
  for (const [i, flush] of FB_FLUSH.entries()) {
    const f = await measure(dir, fluentBit(fbBin, flush), expect);
    samples.fb[i]!.push(f);
    console.log(
      `        Fluent Bit flush ${flush}: ${secs(f.ms).toFixed(2)} s (CPU ${cpuSum(f).toFixed(2)} s, RSS enclave ${mib(f.hwm[0]).toFixed(1)} MiB, parent ${mib(f.hwm[1]).toFixed(1)} MiB, in order: ${f.inOrder})`,
    );
    check(f.same, `Fluent Bit (flush ${flush}): the output file does not hold the input's lines (${f.got} of ${bytes} bytes)`);
  }
}
const { rss: idleRss, cpu: idleCpu } = await idle();
console.log(`idle enclave agent: ${mib(idleRss).toFixed(1)} MiB RSS; CPU of start-up and idling: enclave ${idleCpu[0]} s, parent ${idleCpu[1]} s`);
const l = await latency();
console.log(`latency at ${LAT_RATE}/s: p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms (${l.samples}/${l.expected} samples)`);
check(l.samples === l.expected, `latency run: ${l.samples} of ${l.expected} lines reached the parent's file`);

const Q = samples.qlog;
const wall = (xs: Sample[]) =>
  spread(
    xs.map((x) => secs(x.ms)),
    2,
    ' s',
  );
const perRun = (f: (i: number) => number, unit = '×') =>
  spread(
    Q.map((_, i) => f(i)),
    2,
    unit,
  );
const qlogSocat = Q.map((q, i) => q.ms / samples.socat[i]!.ms);
const qlogNode = Q.map((q, i) => q.ms / samples.node[i]!.ms);
console.log(`qlog / socat copy: ${perRun((i) => qlogSocat[i]!)}; qlog / node copy: ${perRun((i) => qlogNode[i]!)}`);
// Fluent Bit's best tuning: the flush interval with the lowest median wall time.
const best = fbBin ? FB_FLUSH.map((_, i) => i).sort((a, b) => median(samples.fb[a]!.map((x) => x.ms)) - median(samples.fb[b]!.map((x) => x.ms)))[0]! : -1;
const F = best >= 0 ? samples.fb[best]! : [];
const wallFb = F.map((f, i) => Q[i]!.ms / f.ms);
const cpuFb = F.map((f, i) => cpuSum(Q[i]!) / cpuSum(f));
if (fbBin) console.log(`Fluent Bit best: flush ${FB_FLUSH[best]}; qlog / Fluent Bit: wall ${perRun((i) => wallFb[i]!)}, CPU ${perRun((i) => cpuFb[i]!)}`);
if (SMOKE) {
  rmSync(dir, { recursive: true, force: true });
  process.exit();
}

const cmd = 'npm run bench -- e2e';
const size1 = `${LINES.toLocaleString('en')} lines of 126 bytes (${mib(bytes).toFixed(1)} MiB)`;
const system = (name: string, xs: Sample[], cpu: boolean) => [
  name,
  wall(xs),
  `${spread(
    xs.map((x) => LINES / secs(x.ms) / 1000),
    0,
  )}k`,
  cpu ? spread(xs.map(cpuSum)) : '–',
  cpu ? `${spread(xs.map((x) => x.cpu[0]))} / ${spread(xs.map((x) => x.cpu[1]))}` : '–',
  cpu
    ? `${spread(
        xs.map((x) => mib(x.hwm[0])),
        1,
      )} / ${spread(
        xs.map((x) => mib(x.hwm[1])),
        1,
      )}`
    : '–',
];
const head = '| system | wall time | lines/s | CPU s (both) | CPU s enclave / parent | peak RSS MiB enclave / parent |\n|---|---|---|---|---|---|';
writeSection(
  'e2e',
  `## End to end: tail -> vsock-forward -> unix socket -> vsock -> rotated-file (two processes)

${provenance(cmd)}

${size1}, read from the head of an existing file, forwarded with acks over a unix socket, written
to a plain file checked to hold exactly the input (SHA-256). Wall time runs from the start of the
sending process to the last byte in the output file (polled every 5 ms). The copies are the physical
limit: the same file through a unix socket into a file by two processes, no processing (socat with
its defaults; two \`node -e\` streams with 1 MiB reads).

${head}
${rows([system('socat copy', samples.socat, false), system('node copy', samples.node, false), system('qlog', Q, true)])}

| figure | value | target | met |
|---|---|---|---|
${rows([
  ['qlog wall / socat copy (same run)', perRun((i) => qlogSocat[i]!), '≤ 4×', met(median(qlogSocat) <= 4)],
  ['qlog wall / node copy (same run)', perRun((i) => qlogNode[i]!), '', ''],
  [
    'peak RSS, parent agent',
    spread(
      Q.map((q) => mib(q.hwm[1])),
      1,
      ' MiB',
    ),
    '≤ 64 MiB',
    met(median(Q.map((q) => mib(q.hwm[1]))) <= 64),
  ],
  [
    'peak RSS, enclave agent',
    spread(
      Q.map((q) => mib(q.hwm[0])),
      1,
      ' MiB',
    ),
    '≤ 80 MiB',
    met(median(Q.map((q) => mib(q.hwm[0]))) <= 80),
  ],
  [`RSS, enclave agent ${AFTER_MS / 1000} s after the (last) run`, `${mib(Q[Q.length - 1]!.afterRss).toFixed(1)} MiB`, '', ''],
  [`idle RSS, enclave agent (following an empty file, ${IDLE_MS / 1000} s after start)`, `${mib(idleRss).toFixed(1)} MiB`, '≤ 50 MiB', met(mib(idleRss) <= 50)],
  [
    `for scale: CPU s of start-up and ${IDLE_MS / 1000} s idle, enclave / parent (part of the CPU figures above)`,
    `${idleCpu[0]!.toFixed(2)} / ${idleCpu[1]!.toFixed(2)}`,
    '',
    '',
  ],
  ['for scale: RSS of a bare `node -e` on this machine', `${mib(bareNodeRss()).toFixed(1)} MiB`, '', ''],
])}

### Latency at a steady ${LAT_RATE.toLocaleString('en')} lines/s

From append (timestamp written into the line) to the line being readable in the parent's file, polled every
millisecond, ${LAT_SECONDS} s run (${l.samples.toLocaleString('en')} of ${l.expected.toLocaleString('en')} lines seen), one run.

| figure | value | target | met |
|---|---|---|---|
${rows([
  ['p50', `${l.p50.toFixed(1)} ms`, '', ''],
  ['p99', `${l.p99.toFixed(1)} ms`, '≤ 50 ms', met(l.p99 <= 50)],
  ['max', `${l.max.toFixed(1)} ms`, '', ''],
])}`,
);
if (fbBin) {
  const fbRows = FB_FLUSH.map((flush, i) => system(`Fluent Bit, flush ${flush} s${i === best ? ' (best)' : ''}`, samples.fb[i]!, true));
  const order = FB_FLUSH.map((flush, i) => `flush ${flush}: ${samples.fb[i]!.filter((x) => x.inOrder).length}/${RUNS}`).join(', ');
  writeSection(
    'fluent-bit',
    `## Against Fluent Bit (same workload, same run)

${provenance(`FLUENT_BIT=/path/to/fluent-bit ${cmd}`)} Fluent Bit ${fluentBitVersion(fbBin)}.

${size1}. Fluent Bit runs the same pipeline as two processes: \`tail\` (read_from_head, a DB in the
run's temp dir) -> \`forward\` output (\`unix_path\`, \`require_ack_response true\`) -> \`forward\` input on
that unix socket -> \`file\` output with \`format template\`, \`template {log}\`; the three flush
intervals are its tunings, the one with the lowest median wall time is the comparison. Its output holds
the input's lines (checked); in the input's order in ${order} runs (qlog: always, checked by SHA-256).

${head}
${rows([...fbRows, system('qlog', Q, true)])}

| figure (qlog / Fluent Bit's best, per run) | value | target | met |
|---|---|---|---|
${rows([
  ['wall time', perRun((i) => wallFb[i]!), '≤ 0.5×', met(median(wallFb) <= 0.5)],
  ['CPU seconds (both processes)', perRun((i) => cpuFb[i]!), '≤ 0.5×', met(median(cpuFb) <= 0.5)],
  [
    'peak RSS, parent',
    spread(
      Q.map((q, i) => q.hwm[1] / F[i]!.hwm[1]),
      2,
      '×',
    ),
    '',
    '',
  ],
  [
    'peak RSS, enclave',
    spread(
      Q.map((q, i) => q.hwm[0] / F[i]!.hwm[0]),
      2,
      '×',
    ),
    '',
    '',
  ],
])}`,
  );
}
console.log('docs/benchmarks.md: sections written');
rmSync(dir, { recursive: true, force: true });
