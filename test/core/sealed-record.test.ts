/**
 * Sealed units as the parent relays them (core/sealed-record.ts): msgpack keeps the bytes as bin
 * through a decode and re-encode (a forward hop), JSON outputs write them as base64, and
 * rotated-file's line is core/seal's format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeEvents, encodeEntries, encodePackedForward, unpackFrame } from '../../core/forward/index.js';
import { markSealedRecord, sealedLine } from '../../core/sealed-record.js';
import { parseSealedLine } from '../../core/seal/index.js';
import { jsonLinesFormat } from '../../plugins/http/http-json.js';
import { recordLine, toJson, type LogRecord } from '../../core/record.js';

const bytes = randomBytes(300);
const unit = (): LogRecord => ({
  time: 1_700_000_000_000_000_000n,
  tag: 'app',
  body: { sealed: bytes },
  meta: { src: 'cid16/7:9:ab:0', seq: 900, seq_first: 100, sealed_size: 300 },
});

function hop(records: LogRecord[]): LogRecord[] {
  return decodeEvents(unpackFrame(encodePackedForward('app', encodeEntries(records), { size: records.length })), { maxDecompressed: 1 << 20 }).records;
}

test('a sealed unit keeps its bytes as msgpack bin across two hops, marked or not', () => {
  const once = hop([unit()]);
  assert.ok(Buffer.isBuffer((once[0]!.body as { sealed: unknown }).sealed));
  assert.ok(markSealedRecord(once[0]!));
  const twice = hop(once);
  const b = (twice[0]!.body as { sealed: Uint8Array }).sealed;
  assert.ok(b instanceof Uint8Array, 'bin, not a base64 string');
  assert.deepEqual(Buffer.from(b), bytes);
  assert.deepEqual(twice[0]!.meta, unit().meta);
});

test('JSON outputs write a marked unit as base64', () => {
  const r = hop([unit()])[0]!;
  assert.equal(markSealedRecord(r), true);
  assert.equal(markSealedRecord({ time: 0n, tag: 't', body: 'a line', meta: {} }), false);
  assert.equal(JSON.parse(toJson(r.body)).sealed, bytes.toString('base64'));
  assert.equal(JSON.parse(recordLine(r)).sealed, bytes.toString('base64'), 'line formats (nats line, loki) too');
  const body = jsonLinesFormat({ timeKey: 'date', tagKey: 'tag', includeMeta: false }).encode([r]);
  assert.equal(JSON.parse(body.trim()).sealed, bytes.toString('base64'), 'http json_lines');
});

test("rotated-file's line: core/seal's format, parsed back to the same src, range and bytes", () => {
  const l = sealedLine(unit())!;
  assert.match(l, /^qlog-sealed\/1 cid16\/7:9:ab:0 100-900 [A-Za-z0-9+/]+=*$/);
  const p = parseSealedLine(l);
  assert.ok(!('error' in p));
  assert.deepEqual([p.src, p.first, p.last, p.bytes], ['cid16/7:9:ab:0', 100, 900, bytes]);
  // A closing unit: no seq (the parent's marks must not drop it), its range from seq_first/seq_last.
  const end = sealedLine({ ...unit(), meta: { src: 's', end: true, seq_first: 900, seq_last: 900 } })!;
  assert.match(end, /^qlog-sealed\/1 s 900-900 /);
  assert.equal(sealedLine({ time: 0n, tag: 't', body: { log: 'x' }, meta: {} }), undefined);
});
