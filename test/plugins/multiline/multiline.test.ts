// The multiline filter: records arriving over the link (object records with a `log` field, one
// line each) are joined per tag and source; a chunk whose records it holds is acknowledged to
// its input only once the joined record was delivered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import multiline from '../../../plugins/multiline/index.js';
import { ConfigError, createHarness } from '../../../core/testing/index.js';

const lines = (name: string) =>
  readFileSync(new URL(`../../fixtures/multiline/${name}`, import.meta.url), 'utf8')
    .replace(/\n$/, '')
    .split('\n');
const java = lines('java.log');
const harness = (options: Record<string, unknown>) => createHarness(multiline, { options: { multiline_parser: 'java', ...options }, tag: 'enclave.app' });
const rec = (log: string, src = 'cid:16:a', seq = 0) => ({ body: { log, level: 'x' }, meta: { src, seq } });

test("a java trace in object records becomes one record with the first record's fields", async (t) => {
  const h = await harness({});
  t.after(() => h.stop());
  const out = await h.filter(java.map((l, i) => rec(l, 'cid:16:a', i + 1)));
  assert.deepEqual(
    out.map((r) => (r.body as { log: string }).log),
    [java[0], java[1], java.slice(2, 14).join('\n'), java[14], java.slice(15, 18).join('\n'), java[18]],
  );
  assert.equal(out[2]!.meta.seq, 14, 'seq of the last record joined');
  assert.equal((out[2]!.body as { level: string }).level, 'x');
  assert.equal(h.counters.multiline_records, 2);
});

test('sources are assembled apart: two interleaved traces stay whole', async (t) => {
  const h = await harness({});
  t.after(() => h.stop());
  const trace = java.slice(15, 18);
  const mixed = trace.flatMap((l) => [rec(l, 'a'), rec(l, 'b')]);
  const out = await h.filter([...mixed, rec(java[18]!, 'a'), rec(java[18]!, 'b')]);
  assert.deepEqual(
    out.map((r) => [r.meta.src, (r.body as { log: string }).log]),
    [
      ['a', trace.join('\n')],
      ['a', java[18]],
      ['b', trace.join('\n')],
      ['b', java[18]],
    ],
  );
});

test('a chunk whose records are held is acknowledged only after the joined record was delivered', async (t) => {
  const h = await harness({ flush_timeout: '60s' });
  t.after(() => h.stop());
  const trace = java.slice(2, 14);
  let firstAcked = false;
  const first = h.filter([rec(java[0]!), ...trace.slice(0, 6).map((l) => rec(l))]).then((out) => {
    firstAcked = true;
    return out;
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(firstAcked, false, 'the chunk holding the start of the trace is not acknowledged');
  assert.deepEqual(
    h.received.map((r) => (r.body as { log: string }).log),
    [java[0]],
  );
  await h.filter([...trace.slice(6).map((l) => rec(l)), rec(java[14]!)]);
  await first;
  assert.deepEqual(
    h.received.map((r) => (r.body as { log: string }).log),
    [java[0], trace.join('\n'), java[14]],
  );
});

test('flush_timeout emits a trace that ended, and only then acknowledges its chunk', async (t) => {
  const h = await harness({ flush_timeout: '300ms' });
  t.after(() => h.stop());
  const t0 = Date.now();
  const out = await h.filter(java.slice(15, 18).map((l) => rec(l)));
  assert.ok(Date.now() - t0 >= 250);
  assert.deepEqual(
    out.map((r) => (r.body as { log: string }).log),
    [java.slice(15, 18).join('\n')],
  );
});

test('cri pieces from a parser upstream are joined per stream', async (t) => {
  const h = await harness({ multiline_parser: 'cri' });
  t.after(() => h.stop());
  const cri = lines('cri.log').map((l) => {
    const [time, stream, logtag, ...rest] = l.split(' ');
    return { body: { time, stream, logtag, message: rest.join(' ') }, meta: { src: 'k8s' } };
  });
  const out = await h.filter(cri);
  assert.deepEqual(
    out.map((r) => (r.body as { message: string }).message),
    ['warning: disk 91% full', '{"level":"info","msg":"a very long line that the runtime split in three"}', 'short line'],
  );
});

test("a source's records leave in the order they completed when one was held over a chunk", async (t) => {
  // stdout's line is split (P in one chunk, F in the next); a whole stderr line comes between.
  // The stderr record must not be overtaken by the joined stdout one: the file output skips a
  // record whose seq is at or below one it already wrote for the source (a resend).
  const h = await harness({ multiline_parser: 'cri', flush_timeout: '60s' });
  t.after(() => h.stop());
  const cri = (stream: string, logtag: string, message: string, seq: number) => ({ body: { stream, logtag, message }, meta: { src: 'k8s', seq } });
  let firstAcked = false;
  const first = h.filter([cri('stdout', 'P', 'a1 ', 1)]).then(() => (firstAcked = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(firstAcked, false);
  await h.filter([cri('stderr', 'F', 'e', 2), cri('stdout', 'F', 'a2', 3)]);
  await first;
  assert.deepEqual(
    h.received.map((r) => [r.meta.seq, (r.body as { message: string }).message]),
    [
      [2, 'e'],
      [3, 'a1 a2'],
    ],
  );
});

test('an unknown option and an unknown parser are rejected', async () => {
  await assert.rejects(harness({ multiline_parsr: 'x' }), (e: unknown) => e instanceof ConfigError && /multiline_parsr/.test(e.message));
  await assert.rejects(harness({ multiline_parser: 'jvaa' }), (e: unknown) => e instanceof ConfigError && /unknown multiline parser "jvaa"/.test(e.message));
});
