// loki: the push API body (checked by the receiver as Loki checks it): streams from the label
// templates, nanosecond timestamps as strings, entries sorted per stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lokiFormat } from '../../../plugins/http/http-loki.js';
import type { LogRecord } from '../../../core/index.js';
import { startAgent } from './agent.js';
import { checkLoki, startReceiver, type LokiStream } from './receiver.js';

test('loki: streams with the rendered labels, entries [ns string, line], 204', async (t) => {
  const rx = await startReceiver(t, { check: checkLoki });
  const a = await startAgent(t, `url: '${rx.url}', format: loki, labels: 'job=qlog,tag=\${tag},empty=\${nothing}'`, { samples: 5, tag: 'web.app' });
  await rx.waitFor((r) => r.flatMap((x) => (x.parsed as LokiStream[]) ?? []).flatMap((s) => s.values).length >= 5);
  assert.deepEqual(rx.violations, []);
  const streams = rx.requests.flatMap((x) => x.parsed as LokiStream[]);
  for (const s of streams) assert.deepEqual(s.stream, { job: 'qlog', tag: 'web.app' });
  const values = streams.flatMap((s) => s.values);
  assert.deepEqual(
    values.map((v) => v[1]),
    ['line 1', 'line 2', 'line 3', 'line 4', 'line 5'],
  );
  const now = BigInt(Date.now()) * 1_000_000n;
  for (const [ns] of values) assert.ok(now - BigInt(ns) < 60_000_000_000n && BigInt(ns) <= now + 1_000_000_000n, ns);
  assert.equal(rx.requests[0]!.answered, 204);
  assert.equal(await a.stop(), 0);
});

test('loki: entries out of order are sorted within each stream; streams split by label values', () => {
  const f = lokiFormat('job=qlog,tag=${tag}', 'h');
  const rec = (time: bigint, tag: string, body: string): LogRecord => ({ time, tag, body, meta: {} });
  const body = f.encode([rec(30n, 'a', 'a3'), rec(10n, 'b', 'b1'), rec(10n, 'a', 'a1'), rec(20n, 'a', 'a2'), rec(20n, 'a', 'a2bis')]);
  assert.equal(
    body,
    '{"streams":[{"stream":{"job":"qlog","tag":"a"},"values":[["10","a1"],["20","a2"],["20","a2bis"],["30","a3"]]},{"stream":{"job":"qlog","tag":"b"},"values":[["10","b1"]]}]}',
  );
  assert.equal(f.path, '/loki/api/v1/push');
});
