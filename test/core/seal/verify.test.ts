// StreamVerifier in live mode (the vsock input's unseal: an aggregator that acks what it delivers
// must not hold records back): gaps reported at once, late joiners accepted, memory bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeEntries } from '../../../core/forward/codec.js';
import { generateIdentity, openUnit, parseIdentity, Sealer, StreamVerifier, type Identity, type OpenedUnit } from '../../../core/seal/index.js';

const id = generateIdentity();
const ids = [parseIdentity(id.secret) as Identity];

function units(n: number, sealer = new Sealer({ recipients: [id.recipient] }), stream = 's'): OpenedUnit[] {
  return Array.from({ length: n }, (_, i) => {
    const entries = encodeEntries([{ time: 1n, tag: 't', body: `line ${i}`, meta: { src: stream, seq: (i + 1) * 10 } }]);
    return openUnit(sealer.seal({ stream, start: i * 10, first: (i + 1) * 10, last: (i + 1) * 10, count: 1, tag: 't', entries }), ids, undefined);
  });
}

test('live: a unit ahead of its turn is a gap at once and its records are delivered', () => {
  const u = units(6);
  const v = new StreamVerifier({ live: true });
  const got: number[] = [];
  const kinds: string[] = [];
  for (const i of [0, 1, 3, 4, 2, 5]) {
    const r = v.push(u[i]!, `u${i}`);
    if (r.records.length > 0) got.push(i);
    kinds.push(...r.problems.map((p) => `${p.kind}@${p.where}`));
  }
  assert.deepEqual(got, [0, 1, 3, 4, 2, 5]);
  assert.deepEqual(kinds, ['gap@u3', 'reorder@u2']);
  assert.deepEqual(
    v.finish().problems.map((p) => p.kind),
    ['truncated-end'],
  );
});

test('live: a chain first seen at unit n > 0 starts there without a problem; batch mode calls it a gap', () => {
  const u = units(5);
  const live = new StreamVerifier({ live: true });
  const batch = new StreamVerifier();
  const lp: string[] = [];
  const bp: string[] = [];
  let delivered = 0;
  for (const x of u.slice(2)) {
    const r = live.push(x, 'w');
    delivered += r.records.length > 0 ? 1 : 0;
    lp.push(...r.problems.map((p) => p.kind));
    bp.push(...batch.push(x, 'w').problems.map((p) => p.kind));
  }
  assert.equal(delivered, 3);
  assert.deepEqual(lp, []);
  assert.deepEqual(bp, []); // held back, waiting for units 0-1
  assert.deepEqual(
    batch.finish().problems.map((p) => p.message.replace(/session \w+/, 'session S')),
    [
      'w: gap: units 0-1 of stream s (session S) missing: the chain goes from its start to unit 2',
      'w: truncated: stream s (session S) stops at unit 4 (seq 50) without its closing unit: its last units were cut off, or the agent is still running or stopped without closing',
    ],
  );
});

test('a duplicate and a forged unit in the same place are told apart', () => {
  const sealer = new Sealer({ recipients: [id.recipient] }, 'fixed-session');
  const u = units(3, sealer);
  // Same session id, other contents at unit 1: someone made a unit for this place.
  const other = units(2, new Sealer({ recipients: [id.recipient] }, 'fixed-session'));
  const v = new StreamVerifier();
  const kinds: string[] = [];
  for (const x of [u[0]!, u[1]!, u[1]!, other[1]!, u[2]!]) kinds.push(...v.push(x, 'w').problems.map((p) => `${p.kind}:${p.code}`));
  assert.deepEqual(kinds, ['duplicate:QLOG_ERR_SEAL_DUPLICATE', 'auth:QLOG_ERR_SEAL_AUTH']);
});

test('a unit whose signer differs from its chain is named, even without verify keys', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const signed = units(1, new Sealer({ recipients: [id.recipient], signingKey: generateKeyPairSync('ed25519').privateKey }, 'same'));
  const unsigned = units(2, new Sealer({ recipients: [id.recipient] }, 'same'));
  const v = new StreamVerifier();
  const got = [...v.push(signed[0]!, 'a').problems, ...v.push(unsigned[1]!, 'b').problems].map((p) => p.message.replace(/ed25519:[A-Za-z0-9+/=]+/, 'K'));
  assert.deepEqual(got, [
    'b: broken chain: unit 1 of stream s (session same) names previous-unit hash ' +
      `${unsigned[1]!.header.prev.slice(0, 16)}, but unit 0 hashes to ${signed[0]!.digest.slice(0, 16)} (a unit was replaced)`,
    'b: signer changed: unit 1 of stream s (session same) is signed by nobody, the units before it in its chain by K: one of them was made by someone else',
  ]);
});

test("sessions swapped by the parent: the earlier one's records are reordered, not dropped as resent", () => {
  // Session 1 sealed lines 0-2 and closed; session 2 lines 3-5. The parent puts session 2 first.
  const session = (from: number) => {
    const s = new Sealer({ recipients: [id.recipient] });
    const out = Array.from({ length: 3 }, (_, k) => {
      const i = from + k;
      const entries = encodeEntries([{ time: 1n, tag: 't', body: `line ${i}`, meta: { src: 's', seq: (i + 1) * 10 } }]);
      return s.seal({ stream: 's', start: i * 10, first: (i + 1) * 10, last: (i + 1) * 10, count: 1, tag: 't', entries });
    });
    return [...out, ...s.close('t').map((c) => c.bytes)].map((b) => openUnit(b, ids, undefined));
  };
  const [one, two] = [session(0), session(3)];
  const v = new StreamVerifier();
  let printed = 0;
  const kinds: string[] = [];
  for (const u of [...two, ...one]) {
    const r = v.push(u, 'w');
    printed += r.records.length > 0 ? 1 : 0;
    kinds.push(...r.problems.map((p) => p.kind));
  }
  kinds.push(...v.finish().problems.map((p) => p.kind));
  assert.equal(printed, 6, 'every record printed');
  assert.equal(v.resent, 0);
  assert.deepEqual(kinds, ['reorder', 'reorder', 'reorder']);
});

test('live: memory stays bounded however many streams a sender has; a recent chain keeps its checks', () => {
  // A long-running enclave: every rotated file is a new stream, each sealed and closed (or never
  // closed: a crash). The aggregator must not keep all of them.
  const sealer = new Sealer({ recipients: [id.recipient] });
  const entries = encodeEntries([{ time: 1n, tag: 't', body: 'x', meta: { src: 's', seq: 1 } }]);
  const v = new StreamVerifier({ live: true });
  const n = 6000;
  for (let i = 0; i < n; i++) {
    const stream = `ino:${i}:0`;
    v.push(openUnit(sealer.seal({ stream, start: 0, first: 1, last: 1, count: 1, tag: 't', entries }), ids, undefined), 'w');
  }
  for (const c of sealer.close('t')) v.push(openUnit(c.bytes, ids, undefined), 'w');
  assert.ok(v.followed.chains <= 4096, `chains kept: ${v.followed.chains}`);
  assert.ok(v.followed.streams <= 4096, `streams kept: ${v.followed.streams}`);
  // A stream heard from throughout keeps its state: a missing unit is still a gap.
  const u = units(4, new Sealer({ recipients: [id.recipient] }), 'busy');
  const kinds: string[] = [];
  kinds.push(...v.push(u[0]!, 'u0').problems.map((p) => p.kind));
  for (let i = 0; i < 5000; i++) {
    const stream = `more:${i}`;
    v.push(openUnit(sealer.seal({ stream, start: 0, first: 1, last: 1, count: 1, tag: 't', entries }), ids, undefined), 'w');
    if (i === 2500) kinds.push(...v.push(u[1]!, 'u1').problems.map((p) => p.kind));
  }
  kinds.push(...v.push(u[3]!, 'u3').problems.map((p) => `${p.kind}@${p.where}`));
  assert.deepEqual(kinds, ['gap@u3']);
  assert.ok(v.followed.chains <= 4096, `chains kept: ${v.followed.chains}`);
});
