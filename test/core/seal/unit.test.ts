// Unit versions (docs/sealing.md, Unit format): version 2 units carry `meta`, the `_qlog` fields
// their records leave out, and the opener puts them back; version 1 units (an earlier qlog's,
// made here by hand as it made them) still open. Malformed headers and entries are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { encodeEntries } from '../../../core/forward/codec.js';
import { expandEntries } from '../../../core/seal/entries.js';
import {
  ageEncrypt,
  generateIdentity,
  openUnit,
  parseIdentity,
  parseRecipient,
  SealError,
  Sealer,
  signerId,
  type Identity,
  type Recipient,
} from '../../../core/seal/index.js';
import type { LogRecord } from '../../../core/record.js';

const id = generateIdentity();
const ids = [parseIdentity(id.secret) as Identity];
const recipient = parseRecipient(id.recipient) as Recipient;
const { privateKey } = generateKeyPairSync('ed25519');

const rec = (seq: number, meta: Record<string, unknown>): LogRecord => ({ time: BigInt(seq), tag: 'app', body: `line ${seq}`, meta: { ...meta, seq } });
const full = encodeEntries([rec(9, { path: '/a.log', src: 's1' }), rec(18, { path: '/a.log', src: 's1' })]);
const compact = encodeEntries([rec(9, {}), rec(18, {})]);

/** A unit made by hand: `magic`, the header (size and signer filled in), entries, signed with `key`. */
function handUnit(magic: string, header: Record<string, unknown>, entries: Buffer, key?: KeyObject): Buffer {
  const h = {
    session: 'ab'.repeat(16),
    stream: 's1',
    unit: 0,
    prev: '',
    start: 0,
    first: 9,
    last: 18,
    count: 2,
    time: '1',
    tag: 'app',
    ...header,
    size: entries.length,
  };
  if (key) Object.assign(h, { signer: signerId(key) });
  const line = Buffer.from(`${magic}${JSON.stringify(h)}\n`);
  const digest = createHash('sha256').update(line).update(entries).digest();
  const parts = [line, entries];
  if (key) parts.push(sign(null, Buffer.concat([Buffer.from('qlog-seal/1 signature\n'), digest]), key));
  return ageEncrypt(parts, [recipient]);
}

const formatError = (reason: RegExp) => (e: unknown) => e instanceof SealError && e.kind === 'format' && reason.test(e.message);

test('a version 1 unit (whole entries) still opens, signature and digest checked as before', () => {
  const bytes = handUnit('qlog-seal/1 ', { v: 1 }, full, privateKey);
  const u = openUnit(bytes, ids, undefined);
  assert.equal(u.header.v, 1);
  assert.ok(u.entries.equals(full));
  assert.equal(u.signer, signerId(privateKey));
  const line = Buffer.from(
    `qlog-seal/1 ${JSON.stringify({ session: 'ab'.repeat(16), stream: 's1', unit: 0, prev: '', start: 0, first: 9, last: 18, count: 2, time: '1', tag: 'app', v: 1, size: full.length, signer: signerId(privateKey) })}\n`,
  );
  assert.equal(u.digest, createHash('sha256').update(line).update(full).digest('hex'));
});

test('version 2: the records get meta back, first in their _qlog; the Sealer writes it so', () => {
  const u = openUnit(handUnit('qlog-seal/2 ', { v: 2, meta: { path: '/a.log', src: 's1' } }, compact, privateKey), ids, undefined);
  assert.ok(u.entries.equals(full), 'byte for byte the whole entries');
  const s = new Sealer({ recipients: [id.recipient] });
  const sealed = openUnit(
    s.seal({ stream: 's1', start: 0, first: 9, last: 18, count: 2, tag: 'app', entries: compact, meta: { path: '/a.log', src: 's1' } }),
    ids,
    undefined,
  );
  assert.deepEqual([sealed.header.v, sealed.header.meta], [2, { path: '/a.log', src: 's1' }]);
  assert.ok(sealed.entries.equals(full));
  // Without meta, entries are whole as they are.
  assert.ok(openUnit(s.seal({ stream: 's2', start: 0, first: 9, last: 18, count: 2, tag: 'app', entries: full }), ids, undefined).entries.equals(full));
});

test('expandEntries: a _qlog map that grows past 15 fields, other keys, nested values', () => {
  const many = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`k${i}`, i]));
  const records: LogRecord[] = [
    { time: 1n, tag: 'a', body: { msg: 'x', nested: { a: [1, 2] } }, meta: { ...many, seq: 1 } },
    { time: 2n, tag: 'a', body: 'two', meta: { seq: 2 } },
  ];
  const out = expandEntries(encodeEntries(records), { path: '/p', src: 's' }, 1);
  const want = encodeEntries(records.map((r) => ({ ...r, meta: { path: '/p', src: 's', ...r.meta } })));
  assert.ok(out.equals(want));
  assert.throws(() => expandEntries(Buffer.from([0x93, 0, 0, 0]), { path: '/p' }, 1), /entry 0 is not an array \[time, record\]/);
  assert.throws(() => expandEntries(encodeEntries([{ time: 1n, tag: 'a', body: 'x', meta: {} }]).subarray(0, 12), { path: '/p' }, 1), /not whole msgpack/);
});

test('malformed version 2 headers and entries are format errors', () => {
  const bad = (magic: string, header: Record<string, unknown>, entries: Buffer, reason: RegExp) =>
    assert.throws(() => openUnit(handUnit(magic, header, entries), ids, undefined), formatError(reason));
  bad('qlog-seal/1 ', { v: 1, meta: { path: '/a.log' } }, compact, /header field "meta" in a version 1 unit/);
  bad('qlog-seal/2 ', { v: 1 }, full, /unit version 1 in a unit that starts "qlog-seal\/2"/);
  bad('qlog-seal/1 ', { v: 2 }, full, /unit version 2 in a unit that starts "qlog-seal\/1"/);
  bad('qlog-seal/3 ', { v: 3 }, full, /does not start with "qlog-seal\/2" \(or "qlog-seal\/1"\)/);
  bad('qlog-seal/2 ', { v: 2, meta: ['/a.log'] }, compact, /header field "meta" is not an object/);
  bad('qlog-seal/2 ', { v: 2, meta: { path: { x: 1 } } }, compact, /header field "meta" has "path", neither a string, a number nor a boolean/);
  // [1, {log: "x"}]: a record without _qlog.
  bad('qlog-seal/2 ', { v: 2, meta: { path: '/a.log' } }, Buffer.from([0x92, 0x01, 0x81, 0xa3, 0x6c, 0x6f, 0x67, 0xa1, 0x78]), /entry 0 has no _qlog map/);
});
