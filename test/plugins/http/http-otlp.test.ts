// otlp: an ExportLogsServiceRequest in the JSON mapping of the protobuf schema (checked by the
// receiver): resource attributes, severity from the body's level, ids as hex, int64 as strings;
// a partialSuccess answer counts its rejected records as dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { otlpFormat } from '../../../plugins/http/http-otlp.js';
import { waitFor } from '../../helpers/wait.js';
import { startAgent } from './agent.js';
import { checkOtlp, startReceiver, type OtlpRequest } from './receiver.js';

const logRecords = (rs: { parsed?: unknown }[]) =>
  rs.flatMap((r) => ((r.parsed as OtlpRequest | undefined)?.resourceLogs ?? []).flatMap((rl) => rl.scopeLogs.flatMap((s) => s.logRecords)));

test('otlp: resource, scope and log records as the OTLP JSON encoding has them', async (t) => {
  const rx = await startReceiver(t, { check: checkOtlp });
  const dummy = '{"message":"m${seq}","level":"warn","trace_id":"5B8EFFF798038103D269B633813FC60C","span_id":"EEE19B7EC3C1B174","n":${seq}}';
  const a = await startAgent(t, `url: '${rx.url}', format: otlp, service_name: web`, { samples: 3, dummy, service: 'hostname: enclave-1' });
  await rx.waitFor((r) => logRecords(r).length >= 3);
  assert.deepEqual(rx.violations, []);
  const req = rx.requests[0]!.parsed as OtlpRequest;
  assert.deepEqual(req.resourceLogs[0]!.resource.attributes, [
    { key: 'service.name', value: { stringValue: 'web' } },
    { key: 'host.name', value: { stringValue: 'enclave-1' } },
  ]);
  assert.equal(req.resourceLogs[0]!.scopeLogs[0]!.scope.name, 'qlog');
  const recs = logRecords(rx.requests);
  const first = recs[0]!;
  assert.deepEqual(first.body, { stringValue: 'm1' });
  assert.equal(first.severityNumber, 13);
  assert.equal(first.severityText, 'warn');
  assert.equal(first.traceId, '5b8efff798038103d269b633813fc60c');
  assert.equal(first.spanId, 'eee19b7ec3c1b174');
  assert.match(String(first.timeUnixNano), /^\d{19}$/);
  const attrs = first.attributes as { key: string; value: Record<string, unknown> }[];
  assert.deepEqual(attrs.find((x) => x.key === 'n')?.value, { intValue: '1' });
  assert.deepEqual(attrs.find((x) => x.key === 'qlog.tag')?.value, { stringValue: 'app' });
  assert.match(String(attrs.find((x) => x.key === 'log.record.uid')?.value.stringValue), /^dummy:.*:1$/);
  assert.deepEqual(
    recs.map((r) => (r.body as { stringValue: string }).stringValue),
    ['m1', 'm2', 'm3'],
  );
  assert.equal(await a.stop(), 0);
});

test('otlp: partialSuccess.rejectedLogRecords are counted as dropped and the message logged', async (t) => {
  const rx = await startReceiver(t, { check: checkOtlp });
  rx.script(() => ({ status: 200, body: '{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"timestamp too old"}}' }));
  const a = await startAgent(t, `url: '${rx.url}', format: otlp`, { samples: 1 });
  await waitFor(async () => (await a.counters()).dropped_records === 1, { what: 'dropped_records 1' });
  assert.ok(a.cli.logs().some((l) => String(l.msg).includes('dropped 1 of 1 records (OTLP partialSuccess): timestamp too old')));
  assert.equal(await a.stop(), 0);
});

test('otlp: vsock and tail metadata become resource attributes; object bodies without a message become a kvlist', () => {
  const f = otlpFormat('qlog', 'parent');
  const body = JSON.parse(
    f.encode([
      { time: 1_700_000_000_123_456_789n, tag: 't', body: 'plain', meta: { cid: 16, host: 'enc', path: '/var/log/app.log', src: 's', seq: 7 } },
      { time: 1n, tag: 't', body: { a: [1, 2.5, true, null], b: { c: 'd' }, level: 30 }, meta: {} },
    ]),
  ) as OtlpRequest;
  assert.deepEqual(body.resourceLogs[0]!.resource.attributes, [
    { key: 'service.name', value: { stringValue: 'qlog' } },
    { key: 'host.name', value: { stringValue: 'enc' } },
    { key: 'qlog.enclave.cid', value: { intValue: '16' } },
    { key: 'log.file.path', value: { stringValue: '/var/log/app.log' } },
  ]);
  const r0 = body.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
  assert.equal(r0.timeUnixNano, '1700000000123456789');
  const r1 = body.resourceLogs[1]!.scopeLogs[0]!.logRecords[0]!;
  assert.equal(r1.severityNumber, 9);
  assert.equal(r1.severityText, 'info');
  assert.deepEqual(r1.body, {
    kvlistValue: {
      values: [
        { key: 'a', value: { arrayValue: { values: [{ intValue: '1' }, { doubleValue: 2.5 }, { boolValue: true }, {}] } } },
        { key: 'b', value: { kvlistValue: { values: [{ key: 'c', value: { stringValue: 'd' } }] } } },
        { key: 'level', value: { intValue: '30' } },
      ],
    },
  });
});
