// elasticsearch: the _bulk body as Elasticsearch documents it (checked by the receiver), _id from
// src and seq (a resend carries the same ids), and per-item answers: only retriable items are
// sent again, rejected ones are dropped and counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../helpers/wait.js';
import { startAgent } from './agent.js';
import { bulkAnswer, checkBulk, startReceiver, type BulkAction, type Received } from './receiver.js';

const actions = (r: Received) => r.parsed as BulkAction[];

test('elasticsearch: action + document pairs, index from the template with the date, _id <src>:<seq>', async (t) => {
  const rx = await startReceiver(t, { check: checkBulk });
  const a = await startAgent(t, `url: '${rx.url}', format: elasticsearch, index: 'logs-\${tag}-%Y.%m.%d'`, { samples: 5 });
  await rx.waitFor((r) => r.flatMap(actions).length >= 5);
  assert.deepEqual(rx.violations, []);
  const all = rx.requests.flatMap(actions);
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '.');
  const src = all[0]!.id!.slice(0, all[0]!.id!.lastIndexOf(':'));
  assert.match(src, /^dummy:/);
  assert.deepEqual(
    all.map((x) => [x.action, x.index, x.id, x.doc.log, x.doc.tag]),
    [1, 2, 3, 4, 5].map((n) => ['index', `logs-app-${day}`, `${src}:${n}`, `line ${n}`, 'app']),
  );
  assert.match(String(all[0]!.doc['@timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.equal(rx.requests[0]!.path, '/_bulk');
  assert.equal(await a.stop(), 0);
});

test('elasticsearch: after a 503 the resend carries the same _ids: each document stored once', async (t) => {
  const rx = await startReceiver(t, { check: checkBulk });
  rx.script((r) => (r.n === 0 ? { status: 503, body: '{"error":"unavailable_shards_exception"}' } : undefined));
  const a = await startAgent(t, `url: '${rx.url}', format: elasticsearch, bulk_action: create`, { samples: 6 });
  const store = new Map<string, number>();
  await rx.waitFor((r) => r.filter((x) => x.answered === 200).flatMap(actions).length >= 6);
  for (const r of rx.requests.filter((x) => x.answered === 200)) for (const x of actions(r)) store.set(x.id!, (store.get(x.id!) ?? 0) + 1);
  assert.equal(store.size, 6);
  assert.ok([...store.values()].every((n) => n === 1));
  // The refused request's ids are among the stored ones: the same records, the same ids.
  for (const x of actions(rx.requests[0]!)) assert.ok(store.has(x.id!), x.id);
  assert.equal(actions(rx.requests[0]!)[0]!.action, 'create');
  assert.equal(await a.stop(), 0);
});

test('elasticsearch: items 429 and 400 in one answer: only the 429 item is sent again, the 400 one dropped and counted', async (t) => {
  const rx = await startReceiver(t, { check: checkBulk });
  let refused429 = false;
  rx.script((r) => {
    const acts = actions(r);
    if (!acts) return undefined;
    const statuses = acts.map((x) => {
      if (x.doc.log === 'line 2' && !refused429) {
        refused429 = true;
        return 429;
      }
      return x.doc.log === 'line 3' ? 400 : 201;
    });
    return bulkAnswer(statuses, acts);
  });
  const a = await startAgent(t, `url: '${rx.url}', format: elasticsearch`, { samples: 4 });
  await waitFor(async () => (await a.counters()).records_out === 4, { what: 'records_out 4' });
  const sent = rx.requests.flatMap(actions).map((x) => x.doc.log);
  assert.equal(sent.filter((l) => l === 'line 2').length, 2, 'the 429 item went twice');
  assert.equal(sent.filter((l) => l === 'line 3').length, 1, 'the 400 item went once');
  assert.equal(sent.filter((l) => l === 'line 1').length + sent.filter((l) => l === 'line 4').length, 2, 'the stored items went once');
  const retry = rx.requests.filter((r) => actions(r).some((x) => x.doc.log === 'line 2')).at(-1)!;
  assert.deepEqual(
    actions(retry).map((x) => x.doc.log),
    ['line 2'],
  );
  const c = await a.counters();
  assert.equal(c.dropped_records, 1);
  assert.equal(c.records_rejected, 1);
  assert.equal(c.records_resent, 1);
  const log = a.cli.logs().find((l) => String(l.msg).includes('for good'));
  assert.match(
    String(log?.msg),
    /out: http:\/\/127\.0\.0\.1:\d+\/_bulk rejected 1 of \d records for good \(dropped\); first reason: mapper_parsing_exception: failed to parse field \[level\]/,
  );
  assert.equal(await a.stop(), 0);
});
