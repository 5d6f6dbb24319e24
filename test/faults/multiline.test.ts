/**
 * Fault case: tail's multiline option under SIGKILL. The enclave joins Java stack traces while a
 * writer appends them (some traces written in two pieces) and is SIGKILLed in a loop, each time
 * while it holds half a trace. The committed offset never passes the start of a held trace and a
 * restart reads it whole again, so the parent's file holds every trace exactly once and whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { Rig, sleep } from './lib/rig.js';
import { waitFor } from '../helpers/wait.js';

const TRACES = 5000;

/** The trace of number i: an exception line, 2-25 frames, a Caused by with "... N more". */
function trace(i: number): string {
  const id = `T${String(i).padStart(6, '0')}`;
  const frames = 2 + ((i * 7) % 24);
  const out = [`com.example.orders.CheckoutException: ${id} order has no lines`];
  for (let f = 0; f < frames; f++) out.push(`\tat com.example.orders.Step${f}.run(Step${f}.java:${10 + f})`);
  out.push(`Caused by: java.lang.IllegalStateException: ${id} inner`, `\tat com.example.orders.Order.lines(Order.java:23)`, `\t... ${frames} more`);
  return out.join('\n');
}
const header = (i: number) => `2024-03-01 10:15:04.502 ERROR [exec-${i % 8}] checkout failed for T${String(i).padStart(6, '0')}`;

/**
 * Append every trace (with its log line before it), ~10 per write; every third one in two writes.
 * At each of `killAt` the enclave is SIGKILLed while it holds half a trace: once the agent read
 * the half and a state write had time to happen, then restarted before the rest is written.
 */
async function writeTraces(rig: Rig, killAt: readonly number[]): Promise<number> {
  let kills = 0;
  for (let i = 0; i < TRACES; ) {
    let chunk = '';
    for (const end = Math.min(TRACES, i + 10); i < end; i++) {
      const t = trace(i);
      if (i % 3 !== 0 && !killAt.includes(i)) {
        chunk += `${header(i)}\n${t}\n`;
        continue;
      }
      const cut = t.indexOf('\n', t.length >> 1);
      appendFileSync(rig.log, `${chunk}${header(i)}\n${t.slice(0, cut + 1)}`);
      chunk = '';
      if (killAt.includes(i)) {
        const size = statSync(rig.log).size;
        // The agent has read the half trace (it committed the header line before it) ...
        await waitFor(() => (rig.committedOffsets()[0]?.offset ?? 0) >= size - cut - 1, { what: `the commit at the start of trace ${i}`, timeoutMs: 20_000 });
        await sleep(1500); // ... and the coalesced state write (every second) had its chance.
        await rig.enclave.kill9();
        kills++;
        await rig.startEnclave();
      } else await sleep(3);
      chunk = `${t.slice(cut + 1)}\n`;
    }
    appendFileSync(rig.log, chunk);
    await sleep(2);
  }
  appendFileSync(rig.log, '2024-03-01 10:15:09.000 INFO done\n');
  return kills;
}

interface Tally {
  whole: Map<number, number>;
  headers: Map<number, number>;
  split: string[];
  other: string[];
}

function tally(lines: readonly string[]): Tally {
  const t: Tally = { whole: new Map(), headers: new Map(), split: [], other: [] };
  const add = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const line of lines) {
    const log = (JSON.parse(line) as { log?: string }).log ?? '';
    const h = / checkout failed for T(\d{6})$/.exec(log);
    const x = /^com\.example\.orders\.CheckoutException: T(\d{6}) /.exec(log);
    if (h) add(t.headers, Number(h[1]));
    else if (x && log === trace(Number(x[1]))) add(t.whole, Number(x[1]));
    else if (x || /^\t|^Caused by/.test(log)) t.split.push(log.slice(0, 120));
    else if (log !== '2024-03-01 10:15:09.000 INFO done') t.other.push(log.slice(0, 120));
  }
  return t;
}

test('multiline java: the enclave SIGKILLed 4 times while it holds half a trace: every trace arrives once, whole', async (t) => {
  const rig = new Rig(t, { tail: { multiline: 'java' }, file: { format: 'json', rotate_size: '20MB' } });
  writeFileSync(rig.log, '');
  await rig.start();
  const kills = await writeTraces(rig, [700, 1900, 3100, 4300]);
  let r = tally([]);
  await waitFor(() => (r = tally(rig.lines())).whole.size === TRACES && r.headers.size === TRACES, { timeoutMs: 60_000, intervalMs: 500 }).catch(
    () => undefined,
  );
  const skipped = (await rig.metrics('parent')).file?.duplicates_skipped ?? 0;
  const joined = (await rig.metrics('enclave')).app?.multiline_records ?? 0;
  const done = await rig.finish(0, 0);
  r = tally(rig.lines());
  const count = (m: Map<number, number>) => {
    let lost = 0;
    let dup = 0;
    for (let i = 0; i < TRACES; i++) {
      const n = m.get(i) ?? 0;
      if (n === 0) lost++;
      else dup += n - 1;
    }
    return { lost, dup };
  };
  const traces = count(r.whole);
  const headers = count(r.headers);
  t.diagnostic(
    `kills ${kills}; traces written ${TRACES}: lost ${traces.lost}, duplicated ${traces.dup}, split ${r.split.length}; log lines lost ${headers.lost}, duplicated ${headers.dup}; re-sent records the parent skipped ${skipped}; joined by the last enclave run ${joined}`,
  );
  const d = `\n${rig.problems('enclave')}\n${rig.problems('parent')}\n(dir ${rig.dir})`;
  assert.deepEqual(r.split.slice(0, 5), [], `traces split into several records${d}`);
  assert.deepEqual(r.other.slice(0, 5), [], `unexpected records${d}`);
  assert.deepEqual(traces, { lost: 0, dup: 0 }, `traces lost or duplicated${d}`);
  assert.deepEqual(headers, { lost: 0, dup: 0 }, `log lines lost or duplicated${d}`);
  assert.deepEqual(done.exit, { enclave: 0, parent: 0 });
});
