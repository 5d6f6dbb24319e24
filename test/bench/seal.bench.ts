// Sealing throughput (core/seal): Sealer.seal (age X25519 + ChaCha20-Poly1305 STREAM, SHA-256
// chain digest, optional Ed25519 signature) and openUnit + StreamVerifier, in MB/s of entries and
// lines/s, for unit sizes from one small frame to a full 1 MiB frame.
// Usage: node --import tsx test/bench/seal.bench.ts [total-MB]   (QLOG_BENCH_SMOKE=1: 2 MB)
import { generateKeyPairSync } from 'node:crypto';
import { encodeEntries } from '../../core/forward/codec.js';
import type { LogRecord } from '../../core/record.js';
import { generateIdentity, openUnit, parseIdentity, signerId, Sealer, StreamVerifier, type Identity } from '../../core/seal/index.js';
import { check, size } from './smoke.js';

const totalMB = Number(process.argv[2] ?? size(256, 2));
const LINE = 100;
const id = generateIdentity();
const identities = [parseIdentity(id.secret) as Identity];
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const verifyKeys = [{ id: signerId(publicKey), key: publicKey }];

/** One unit's entries: `lines` tail records of LINE bytes each. */
function entries(lines: number, from: number): { entries: Buffer; first: number; last: number } {
  const records: LogRecord[] = [];
  for (let i = 0; i < lines; i++) {
    const n = from + i;
    records.push({
      time: 1_700_000_000_000_000_000n + BigInt(n),
      tag: 'app',
      body: `L${String(n).padStart(9, '0')} ${'x'.repeat(LINE - 12)}`,
      meta: { path: '/var/log/app.log', src: 'bench', seq: (n + 1) * LINE },
    });
  }
  return { entries: encodeEntries(records), first: (from + 1) * LINE, last: (from + lines) * LINE };
}

function run(label: string, linesPerUnit: number, opts: { sign: boolean; recipients: number }): void {
  const recipients = [id.recipient, ...Array.from({ length: opts.recipients - 1 }, () => generateIdentity().recipient)];
  const sealer = new Sealer({ recipients, signingKey: opts.sign ? privateKey : undefined });
  // K distinct consecutive units (seq ranges follow on), sealed round and round; the first K
  // sealed are kept for the open half (bounded memory).
  const K = linesPerUnit > 1000 ? 8 : 64;
  const pool = Array.from({ length: K }, (_, i) => entries(linesPerUnit, i * linesPerUnit));
  const unitBytes = pool[0]!.entries.length;
  const units = Math.max(K, Math.ceil((totalMB * 1e6) / unitBytes));
  const sealed: Buffer[] = [];
  let bytes = 0;
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < units; i++) {
    const u = pool[i % K]!;
    const b = sealer.seal({ stream: 'bench', start: u.first - LINE, first: u.first, last: u.last, count: linesPerUnit, tag: 'app', entries: u.entries });
    bytes += u.entries.length;
    if (i < K) sealed.push(b);
  }
  const sealS = Number(process.hrtime.bigint() - t0) / 1e9;
  // Open: the first up-to-64 units, repeated to the same volume, each verified in chain order.
  t0 = process.hrtime.bigint();
  let opened = 0;
  let ok = true;
  for (let done = 0; done < units; ) {
    const v = new StreamVerifier();
    for (let i = 0; i < K; i++) {
      if (done++ >= units) break;
      const u = openUnit(sealed[i]!, identities, opts.sign ? verifyKeys : undefined);
      const r = v.push(u, 'bench');
      opened += u.entries.length;
      if (r.problems.length > 0 || !r.records.equals(pool[i]!.entries)) ok = false;
    }
  }
  const openS = Number(process.hrtime.bigint() - t0) / 1e9;
  const overhead = sealed[0]!.length - unitBytes;
  console.log(
    `${label.padEnd(40)} seal ${(bytes / sealS / 1e6).toFixed(0).padStart(5)} MB/s ${((units * linesPerUnit) / sealS / 1e3).toFixed(0).padStart(6)} k lines/s   open+verify ${(opened / openS / 1e6).toFixed(0).padStart(5)} MB/s   (${units} units of ${unitBytes} B, +${overhead} B each)`,
  );
  check(ok, `${label}: opened units differ from what was sealed, or the verifier found problems`);
  check(opened === bytes, `${label}: opened ${opened} bytes, sealed ${bytes}`);
}

console.log(`${totalMB} MB of entries per case; ${LINE}-byte lines`);
for (const [lines, name] of [
  [16, '16 lines (~2 KiB)'],
  [512, '512 lines (~64 KiB)'],
  [8000, '8000 lines (~1 MiB frame)'],
] as const) {
  run(`${name}, signed, 1 recipient`, lines, { sign: true, recipients: 1 });
}
run('8000 lines, unsigned, 1 recipient', 8000, { sign: false, recipients: 1 });
run('8000 lines, signed, 3 recipients', 8000, { sign: true, recipients: 3 });
