// core/seal's age format against the real `age` and `age-keygen` binaries (Debian package age),
// in both directions, and the unit format (header, chain, signature) through openUnit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeEntries } from '../../../core/forward/codec.js';
import {
  ageDecrypt,
  ageEncrypt,
  generateIdentity,
  openUnit,
  parseIdentity,
  parseIdentityFile,
  parseRecipient,
  parseVerifyKey,
  SealError,
  Sealer,
  signerId,
  type Identity,
  type Recipient,
} from '../../../core/seal/index.js';
import { tempDir } from '../../helpers/tmp.js';

const hasAge = spawnSync('age', ['--version']).status === 0 && spawnSync('age-keygen', ['--help']).status !== null;
const needAge = { skip: hasAge ? false : 'the age and age-keygen binaries are not installed (apt-get install age)' };

function ageKeygen(dir: string): { file: string; recipient: string; ids: Identity[] } {
  const file = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', file], { stdio: 'pipe' });
  const text = readFileSync(file, 'utf8');
  return { file, recipient: /# public key: (age1\w+)/.exec(text)![1]!, ids: parseIdentityFile(text, file) };
}

function pattern(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 8)) & 0xff;
  return b;
}

test('age -d opens what ageEncrypt writes, ageDecrypt opens what age -e writes (chunk edges)', needAge, (t) => {
  const dir = tempDir(t);
  const k = ageKeygen(dir);
  const other = parseRecipient(generateIdentity().recipient) as Recipient;
  const r = parseRecipient(k.recipient) as Recipient;
  for (const size of [0, 1, 65535, 65536, 65537, 2 * 65536, 200_001]) {
    const plain = pattern(size);
    const parts = size > 3 ? [plain.subarray(0, 3), plain.subarray(3, size >> 1), plain.subarray(size >> 1)] : [plain];
    const file = join(dir, `u${size}.age`);
    writeFileSync(file, ageEncrypt(parts, [other, r]));
    const out = execFileSync('age', ['-d', '-i', k.file, file], { maxBuffer: 1 << 24 });
    assert.ok(out.equals(plain), `age -d of ${size} bytes`);
    const theirs = execFileSync('age', ['-e', '-r', k.recipient], { input: plain, maxBuffer: 1 << 24 });
    assert.ok(ageDecrypt(theirs, k.ids).equals(plain), `ageDecrypt of age -e, ${size} bytes`);
  }
});

test('age-keygen identities parse to their recipient; generateIdentity is what age-keygen -y reads', needAge, (t) => {
  const dir = tempDir(t);
  const k = ageKeygen(dir);
  assert.equal(k.ids[0]!.recipient, k.recipient);
  const g = generateIdentity();
  const y = execFileSync('age-keygen', ['-y'], { input: `${g.secret}\n` })
    .toString()
    .trim();
  assert.equal(y, g.recipient);
  assert.equal((parseIdentity(g.secret) as Identity).recipient, g.recipient);
});

test('altered age files are refused with the failing check', () => {
  const g = generateIdentity();
  const id = parseIdentity(g.secret) as Identity;
  const f = ageEncrypt([pattern(100_000)], [parseRecipient(g.recipient) as Recipient]);
  const flip = (at: number) => {
    const c = Buffer.from(f);
    c[at]! ^= 1;
    return c;
  };
  const hdrEnd = f.indexOf('\n---') + 1;
  assert.throws(() => ageDecrypt(flip(f.length - 5), [id]), { kind: 'payload' });
  const otherMac = Buffer.concat([f.subarray(0, hdrEnd + 4), Buffer.from('A'.repeat(43)), f.subarray(hdrEnd + 4 + 43)]);
  assert.throws(() => ageDecrypt(otherMac, [id]), { kind: 'header-mac' });
  // Another base64 character in the wrapped file key: no identity unwraps it.
  const wrapped = Buffer.from(f);
  wrapped[hdrEnd - 5] = wrapped[hdrEnd - 5] === 0x41 ? 0x42 : 0x41;
  assert.throws(() => ageDecrypt(wrapped, [id]), { kind: 'no-identity' });
  assert.throws(() => ageDecrypt(f.subarray(0, f.length - 100), [id]), { kind: 'payload' });
  assert.throws(() => ageDecrypt(f, [parseIdentity(generateIdentity().secret) as Identity]), { kind: 'no-identity' });
  assert.throws(() => ageDecrypt(Buffer.from('hello\n'), [id]), { kind: 'format' });
  assert.equal(parseRecipient('age1qqqq').constructor, Object);
  assert.match((parseRecipient(g.recipient.slice(0, -1) + (g.recipient.endsWith('q') ? 'p' : 'q')) as { error: string }).error, /checksum/);
});

test('a Sealer unit: age -d shows header and entries; openUnit checks chain fields and signature', needAge, (t) => {
  const dir = tempDir(t);
  const k = ageKeygen(dir);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const sealer = new Sealer({ recipients: [k.recipient], signingKey: privateKey });
  const entries = encodeEntries([
    { time: 1n, tag: 'app', body: 'line one', meta: { src: 's1', seq: 9 } },
    { time: 2n, tag: 'app', body: 'line two', meta: { src: 's1', seq: 18 } },
  ]);
  const u0 = sealer.seal({ stream: 's1', start: 0, first: 9, last: 18, count: 2, tag: 'app', entries });
  const u1 = sealer.seal({ stream: 's1', start: 18, first: 27, last: 27, count: 1, tag: 'app', entries: entries.subarray(0, 10) });
  writeFileSync(join(dir, 'u0.age'), u0);
  const plain = execFileSync('age', ['-d', '-i', k.file, join(dir, 'u0.age')]);
  const firstLine = plain.toString('latin1', 0, plain.indexOf(0x0a));
  assert.match(firstLine, /^qlog-seal\/2 \{"v":2,"session":"[0-9a-f]{32}","stream":"s1","unit":0,"prev":"",/);
  assert.ok(plain.includes(entries));

  const vk = parseVerifyKey(publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'signing.pub');
  assert.equal(vk.id, signerId(privateKey));
  const o0 = openUnit(u0, k.ids, [vk]);
  const o1 = openUnit(u1, k.ids, [vk]);
  assert.deepEqual([o0.header.unit, o0.header.first, o0.header.last, o0.header.count, o0.signer], [0, 9, 18, 2, vk.id]);
  assert.ok(o0.entries.equals(entries));
  assert.equal(o1.header.prev, o0.digest);
  assert.equal(o1.header.session, sealer.session);
  // Someone else's key is an unknown signer; no key at all is unsigned.
  const stranger = parseVerifyKey(generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'x.pub');
  assert.throws(
    () => openUnit(u0, k.ids, [stranger]),
    (e: unknown) => e instanceof SealError && e.kind === 'unknown-signer' && e.code === 'QLOG_ERR_SEAL_SIGNER',
  );
  const unsigned = new Sealer({ recipients: [k.recipient] }).seal({ stream: 's1', start: 0, first: 9, last: 18, count: 2, tag: 'app', entries });
  assert.throws(() => openUnit(unsigned, k.ids, [vk]), { kind: 'unsigned' });
  assert.equal(openUnit(unsigned, k.ids, undefined).signer, undefined);
});
