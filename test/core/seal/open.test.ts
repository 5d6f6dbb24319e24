// `qlog open` and `qlog keygen` on files of sealed lines as rotated-file writes them: a clean run
// across source and output rotation and an agent restart restores the input byte for byte; each
// tampering case of issue 17 is detected, named, and gets its own exit status. Cross-checked with
// the real age / age-keygen binaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeEntries } from '../../../core/forward/codec.js';
import { formatSealedLine, loadSealOptions, parseSealedLine, Sealer } from '../../../core/seal/index.js';
import type { LogRecord } from '../../../core/record.js';
import { runCli } from '../../helpers/cli.js';
import { numberedLine } from '../../helpers/lines.js';
import { tempDir } from '../../helpers/tmp.js';

const hasAge = spawnSync('age', ['--version']).status === 0;
const needAge = { skip: hasAge ? false : 'the age binary is not installed (apt-get install age)' };

interface Keys {
  dir: string;
  identity: string;
  recipient: string;
  signingKey: KeyObject;
  signingPub: string;
}

async function keygen(dir: string): Promise<Keys> {
  const r = await runCli(['keygen', '-o', join(dir, 'keys')]);
  assert.equal(r.code, 0, r.stderr);
  const k = join(dir, 'keys');
  const { createPrivateKey } = await import('node:crypto');
  return {
    dir,
    identity: join(k, 'identity.txt'),
    recipient: readFileSync(join(k, 'recipient.txt'), 'utf8').trim(),
    signingKey: createPrivateKey(readFileSync(join(k, 'signing.key'))),
    signingPub: join(k, 'signing.pub'),
  };
}

/** A source file's lines as tail reads them: seq = byte offset after each line. */
function source(src: string, from: number, to: number, startAt = 0): { src: string; lines: string[]; seqs: number[]; start: number } {
  const lines: string[] = [];
  const seqs: number[] = [];
  let off = startAt;
  for (let n = from; n < to; n++) {
    const l = numberedLine(n, src === 'A' ? 'A' : 'B');
    off += Buffer.byteLength(l) + 1;
    lines.push(l);
    seqs.push(off);
  }
  return { src, lines, seqs, start: startAt };
}

/** Seal lines [i, j) of `s` as one unit; returns the rotated-file line. */
function unit(sealer: Sealer, s: ReturnType<typeof source>, i: number, j: number): string {
  const records: LogRecord[] = [];
  for (let k = i; k < j; k++) records.push({ time: BigInt(k), tag: 'app', body: s.lines[k]!, meta: { path: '/var/log/app.log', src: s.src, seq: s.seqs[k]! } });
  const start = i === 0 ? s.start : s.seqs[i - 1]!;
  const bytes = sealer.seal({ stream: s.src, start, first: s.seqs[i]!, last: s.seqs[j - 1]!, count: j - i, tag: 'app', entries: encodeEntries(records) });
  return formatSealedLine(s.src, s.seqs[i]!, s.seqs[j - 1]!, bytes);
}

/**
 * The enclave's output in rotated-file lines: source A (rotated into source B halfway) sealed in
 * units of 10 lines, closing units at the end. Returns every line and the expected plaintext.
 */
function sealedRun(k: Keys, signed = true): { lines: string[]; text: string } {
  const sealer = new Sealer({ recipients: [k.recipient], signingKey: signed ? k.signingKey : undefined });
  const a = source('A', 0, 60);
  const b = source('B', 0, 40);
  const lines: string[] = [];
  for (let i = 0; i < 60; i += 10) {
    lines.push(unit(sealer, a, i, i + 10));
    if (i >= 20) lines.push(unit(sealer, b, i - 20, i - 10)); // B (the rotated file) starts while A is read to its end
  }
  for (const c of sealer.close('app')) lines.push(formatSealedLine(c.stream, ...lastRange(lines, c.stream), c.bytes));
  // Printed in file order: 0:A0 1:A1 2:A2 3:B0 4:A3 5:B1 6:A4 7:B2 8:A5 9:B3 10:end A 11:end B.
  const order: string[] = [];
  for (let i = 0; i < 60; i += 10) {
    order.push(...a.lines.slice(i, i + 10));
    if (i >= 20) order.push(...b.lines.slice(i - 20, i - 10));
  }
  return { lines, text: `${order.join('\n')}\n` };
}

function lastRange(lines: string[], src: string): [number, number] {
  for (let i = lines.length - 1; i >= 0; i--) {
    const p = parseSealedLine(lines[i]!);
    if (!('error' in p) && p.src === src) return [p.last, p.last];
  }
  throw new Error(`no unit of ${src}`);
}

/** Write `lines` as three rotated generations (oldest first in the returned list), one gzipped. */
function writeRotated(dir: string, lines: string[], name = 'app.log'): string[] {
  const third = Math.ceil(lines.length / 3);
  const files = [join(dir, `${name}.2.gz`), join(dir, `${name}.1`), join(dir, name)];
  const text = (ls: string[]) => (ls.length ? `${ls.join('\n')}\n` : '');
  writeFileSync(files[0]!, gzipSync(text(lines.slice(0, third))));
  writeFileSync(files[1]!, text(lines.slice(third, 2 * third)));
  writeFileSync(files[2]!, text(lines.slice(2 * third)));
  return files;
}

/** The printed lines per stream (A..., B...). */
function byStream(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of text.split('\n').filter(Boolean)) (out[l[0]!] ??= []).push(l);
  return out;
}

async function open(k: Keys, files: string[], extra: string[] = ['--verify-key', k.signingPub]) {
  return runCli(['open', '-i', k.identity, ...extra, ...files]);
}

test('qlog open restores the input byte for byte across rotation; --check prints nothing', async (t) => {
  const dir = tempDir(t);
  const k = await keygen(dir);
  const run = sealedRun(k);
  const files = writeRotated(dir, run.lines);
  const r = await open(k, files);
  assert.equal(r.stderr, 'qlog open: 12 units, 100 records, 2 streams, 1 sessions: OK\n');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, run.text);
  const c = await open(k, files, ['--check', '--verify-key', k.signingPub]);
  assert.deepEqual([c.code, c.stdout], [0, '']);
  assert.match(c.stderr, /: OK\n$/);
});

test('an agent restart: the new session re-seals records the parent has; printed once, no gap', async (t) => {
  const dir = tempDir(t);
  const k = await keygen(dir);
  const a = source('A', 0, 50);
  const s1 = new Sealer({ recipients: [k.recipient], signingKey: k.signingKey });
  const s2 = new Sealer({ recipients: [k.recipient], signingKey: k.signingKey });
  // Session 1 sealed lines 0-29 and died; session 2 re-reads from line 20 (its last acked offset).
  const lines = [unit(s1, a, 0, 10), unit(s1, a, 10, 20), unit(s1, a, 20, 30)];
  const rest = { ...a, lines: a.lines.slice(20), seqs: a.seqs.slice(20), start: a.seqs[19]! };
  lines.push(unit(s2, rest, 0, 15), unit(s2, rest, 15, 30));
  lines.push(...s2.close('app').map((c) => formatSealedLine(c.stream, a.seqs[49]!, a.seqs[49]!, c.bytes)));
  const files = writeRotated(dir, lines);
  const r = await open(k, files);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${a.lines.join('\n')}\n`);
  assert.match(r.stderr, /QLOG_ERR_SEAL_RESENT: .*app\.log\.1:\d+: note: 10 record\(s\) of stream A up to seq 3000 were sent again by session [0-9a-f]{32}/);
  assert.match(r.stderr, /6 units, 50 records, 1 streams, 2 sessions, 10 resent after a restart: OK\n$/);

  // The parent dropped session 2's first unit whole (all its records were stored already: a
  // resend by its high-water mark), and namespaced the src as the vsock input does: still complete.
  const s3 = new Sealer({ recipients: [k.recipient], signingKey: k.signingKey });
  const again = { ...a, lines: a.lines.slice(25), seqs: a.seqs.slice(25), start: a.seqs[24]! };
  unit(s3, again, 0, 5); // lines 25-29: the parent has them, drops the unit
  const joined = [...lines.slice(0, 3), unit(s3, again, 5, 25), ...s3.close('app').map((c) => formatSealedLine('A', a.seqs[49]!, a.seqs[49]!, c.bytes))].map(
    (l) => l.replace(/^qlog-sealed\/1 A /, 'qlog-sealed/1 cid5/A '),
  );
  const j = await open(k, writeRotated(dir, joined, 'joined.log'));
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stdout, `${a.lines.join('\n')}\n`);
  assert.match(j.stderr, /5 units, 50 records, 1 streams, 2 sessions: OK\n$/);

  // A restart that skipped records (the parent dropped the tail of session 1 it had acked): a gap.
  const gap = [
    lines[0]!,
    lines[1]!,
    unit(
      new Sealer({ recipients: [k.recipient], signingKey: k.signingKey }),
      { ...a, lines: a.lines.slice(30), seqs: a.seqs.slice(30), start: a.seqs[29]! },
      0,
      20,
    ),
  ];
  const g = await open(k, writeRotated(dir, gap, 'gap.log'));
  assert.equal(g.code, 3, g.stderr);
  assert.match(g.stderr, /QLOG_ERR_SEAL_GAP: .*gap\.log:1: gap: records of stream A after seq 2000 up to seq 3000 are missing/);
});

/** The unit lines of a run, changed by `edit`, opened: exit code, stderr, stdout. */
async function tampered(t: { after(fn: () => void): void }, edit: (lines: string[], k: Keys, dir: string) => string[], extra?: (k: Keys) => string[]) {
  const dir = tempDir(t);
  const k = await keygen(dir);
  const run = sealedRun(k);
  const files = writeRotated(dir, edit([...run.lines], k, dir));
  const r = await open(k, files, extra?.(k));
  return { ...r, run };
}

test('a unit deleted from the middle is a gap (exit 3)', async (t) => {
  const r = await tampered(t, (l) => l.filter((_, i) => i !== 2)); // A's unit 2
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.stderr,
    /QLOG_ERR_SEAL_GAP: \S+app\.log\.2\.gz:4: gap: unit 2 of stream A \(session [0-9a-f]{32}\) missing: the chain goes from unit 1 to unit 3\n/,
  );
  assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('A00000002')).length, 0);
  // Each stream in order (units after a gap wait for it, so streams interleave differently).
  assert.deepEqual(byStream(r.stdout), byStream(r.run.text.replace(/^A00000002\d.*\n/gm, '')));
  assert.equal(r.stdout.split('\n').length - 1, 90);
});

test('two units swapped are reported as reordered (exit 4) and printed in order', async (t) => {
  const r = await tampered(t, (l) => {
    [l[1], l[2]] = [l[2]!, l[1]!];
    return l;
  });
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.stderr,
    /QLOG_ERR_SEAL_REORDER: \S+app\.log\.2\.gz:3: reordered: unit 1 of stream A \(session [0-9a-f]{32}\) comes after unit 2 \(at \S+app\.log\.2\.gz:2\)/,
  );
  assert.equal(r.stdout, r.run.text);
});

test('a duplicated unit is reported (exit 5) and printed once', async (t) => {
  const r = await tampered(t, (l) => [...l.slice(0, 8), l[4]!, ...l.slice(8)]);
  assert.equal(r.code, 5, r.stderr);
  assert.match(
    r.stderr,
    /QLOG_ERR_SEAL_DUPLICATE: \S+app\.log\.1:4: duplicate: unit 3 of stream A \(session \w+\) was read before at \S+app\.log\.2\.gz:5 \(skipped\)/,
  );
  assert.equal(r.stdout, r.run.text);
});

test('a flipped byte fails authentication (exit 7)', async (t) => {
  const r = await tampered(t, (l) => {
    const p = parseSealedLine(l[4]!) as { src: string; first: number; last: number; bytes: Buffer };
    p.bytes[p.bytes.length - 100]! ^= 0x20;
    l[4] = formatSealedLine(p.src, p.first, p.last, p.bytes);
    return l;
  });
  assert.equal(r.code, 7, r.stderr);
  assert.match(
    r.stderr,
    /QLOG_ERR_SEAL_AUTH: \S+app\.log\.1:1: authentication failed: payload chunk 0 fails authentication: the payload was altered, cut or extended \(the unit was altered\)/,
  );
  assert.match(r.stderr, /QLOG_ERR_SEAL_GAP: \S+app\.log\.1:3: gap: unit 3 of stream A \(session \w+\) missing: the chain goes from unit 2 to unit 4\n/);
  assert.deepEqual(byStream(r.stdout), byStream(r.run.text.replace(/^A00000003\d.*\n/gm, '')));
});

test('the last units cut off: the stream has no closing unit (exit 6)', async (t) => {
  const r = await tampered(t, (l) => l.slice(0, -3)); // A's unit 5 and both closing units
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /QLOG_ERR_SEAL_TRUNCATED: \S+app\.log:3: truncated: stream A \(session \w+\) stops at unit 5 \(seq 6000\) without its closing unit/);
  assert.match(r.stderr, /QLOG_ERR_SEAL_TRUNCATED: \S+app\.log:2: truncated: stream B \(session \w+\) stops at unit 2 \(seq 3000\)/);
});

test('the cleartext seq range of a line altered (to fool dedupe): exit 7', async (t) => {
  const r = await tampered(t, (l) => {
    l[0] = l[0]!.replace(/ 100-1000 /, ' 100-999999 ');
    return l;
  });
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stderr, /line says A 100-999999 but the unit inside holds stream A seq 100-1000/);
});

test('units re-encrypted by a holder of the recipient key only are rejected with a signing key (exit 8)', needAge, async (t) => {
  /** Decrypt line i with age, let `change` edit the plaintext, encrypt it again with age -e -r. */
  const forge = (k: Keys, dir: string, line: string, change: (plain: Buffer) => Buffer): string => {
    const p = parseSealedLine(line) as { src: string; first: number; last: number; bytes: Buffer };
    writeFileSync(join(dir, 'u.age'), p.bytes);
    const plain = execFileSync('age', ['-d', '-i', k.identity, join(dir, 'u.age')]);
    const forged = execFileSync('age', ['-e', '-r', k.recipient], { input: change(plain) });
    return formatSealedLine(p.src, p.first, p.last, forged);
  };
  const edit = (plain: Buffer) => Buffer.from(plain.toString('latin1').replace('A000000015 ', 'A000000015!'), 'latin1');
  // The signature kept: it does not match the edited contents.
  const bad = await tampered(t, (l, k, dir) => {
    l[1] = forge(k, dir, l[1]!, edit);
    return l;
  });
  assert.equal(bad.code, 8, bad.stderr);
  assert.match(
    bad.stderr,
    /QLOG_ERR_SEAL_SIGNER: \S+app\.log\.2\.gz:2: bad signature: unit 1 of stream A \(session \w+\) names signer ed25519:\S+ but its signature does not verify/,
  );
  // Signer and signature removed: unsigned.
  const unsigned = await tampered(t, (l, k, dir) => {
    l[1] = forge(k, dir, l[1]!, (plain) => {
      const e = edit(plain);
      return Buffer.from(
        e
          .subarray(0, e.length - 64)
          .toString('latin1')
          .replace(/,"signer":"[^"]*"/, ''),
        'latin1',
      );
    });
    return l;
  });
  assert.equal(unsigned.code, 8, unsigned.stderr);
  assert.match(unsigned.stderr, /app\.log\.2\.gz:2: unit 1 of stream A \(session \w+\) is not signed, but --verify-key requires signed units/);
  // Signed with the forger's own key: unknown signer.
  const mine = generateKeyPairSync('ed25519');
  const unknown = await tampered(t, (l, k) => {
    const forger = new Sealer({ recipients: [k.recipient], signingKey: mine.privateKey });
    l[1] = unit(forger, source('A', 0, 60), 10, 20);
    return l;
  });
  assert.equal(unknown.code, 8, unknown.stderr);
  assert.match(
    unknown.stderr,
    /QLOG_ERR_SEAL_SIGNER: \S+:2: unknown signer ed25519:\S+: unit 0 of stream A .* is signed by a key that is not a --verify-key \(known: ed25519:/,
  );
});

test('age -d opens a unit cut out of the file with the documented one-liner; age-keygen identities open units', needAge, async (t) => {
  const dir = tempDir(t);
  const k = await keygen(dir);
  const files = writeRotated(dir, sealedRun(k).lines);
  const plain = execFileSync('sh', ['-c', `sed -n 2p "$1" | cut -d' ' -f4 | base64 -d | age -d -i "$2"`, 'sh', files[1]!, k.identity]);
  assert.match(plain.toString('latin1').split('\n')[0]!, /^qlog-seal\/2 \{"v":2,"session":"\w+","stream":"[AB]","unit":\d,/);
  // A unit sealed to an age-keygen key, opened with that key file.
  execFileSync('age-keygen', ['-o', join(dir, 'theirs.txt')], { stdio: 'pipe' });
  const recipient = /# public key: (\S+)/.exec(readFileSync(join(dir, 'theirs.txt'), 'utf8'))![1]!;
  const s = new Sealer({ recipients: [recipient] });
  const a = source('A', 0, 5);
  const lines = [unit(s, a, 0, 5), ...s.close('app').map((c) => formatSealedLine('A', a.seqs[4]!, a.seqs[4]!, c.bytes))];
  writeFileSync(join(dir, 'x.log'), `${lines.join('\n')}\n`);
  const r = await runCli(['open', '-i', join(dir, 'theirs.txt'), join(dir, 'x.log')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${a.lines.join('\n')}\n`);
  // With someone else's identity nothing opens: exit 7, saying why.
  const w = await runCli(['open', '-i', k.identity, join(dir, 'x.log')]);
  assert.equal(w.code, 7);
  assert.match(w.stderr, /QLOG_ERR_SEAL_AUTH: \S+x\.log:1: cannot open the unit: no identity opens it .*sealed to other recipients \(check -i\)/);
});

test('qlog open and keygen usage errors', async (t) => {
  const dir = tempDir(t);
  const noId = await runCli(['open', 'x.log'], { cwd: dir });
  assert.equal(noId.code, 2);
  assert.match(noId.stderr, /^qlog: -i IDENTITY is required/);
  const typo = await runCli(['open', '-i', 'k', '--verfy-key', 'p', 'x'], { cwd: dir });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown option "--verfy-key" \(did you mean "--verify-key"\?\)/);
  writeFileSync(join(dir, 'bad.txt'), `# nothing\nAGE-SECRET-KEY-1${'Q'.repeat(64)}\n`);
  const bad = await runCli(['open', '-i', 'bad.txt', 'x.log'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^qlog: QLOG_ERR_SEAL_KEY: bad\.txt:2: the line is not an age identity: it has a wrong checksum/);
  const k = await keygen(dir);
  const missing = await runCli(['open', '-i', k.identity, join(dir, 'nope.log')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /QLOG_ERR_SEAL_READ: cannot read \S+nope\.log: ENOENT/);
  writeFileSync(join(dir, 'cut.gz'), gzipSync('qlog-sealed/1 A 1-2 AAAA\n').subarray(0, 15));
  const cut = await runCli(['open', '-i', k.identity, join(dir, 'cut.gz')]);
  assert.equal(cut.code, 1);
  assert.match(cut.stderr, /QLOG_ERR_SEAL_READ: cannot read \S+cut\.gz: unexpected end of file \(gzip\)/);
  const again = await runCli(['keygen', '-o', join(dir, 'keys')]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /identity\.txt exists already; "qlog keygen" never overwrites a key/);
});

test('the attestation hook: its document travels in unit 0 of each stream and qlog open checks it names the signer', async (t) => {
  const dir = tempDir(t);
  const k = await keygen(dir);
  // A stand-in for the platform's attestation call (Nitro NSM / QingTian qtsm): prints a document
  // with the public key it was given, as the real ones carry it in public_key/user_data.
  const good = loadSealOptions(
    {
      recipients_file: 'keys/recipient.txt',
      signing_key_file: 'keys/signing.key',
      attestation_command: ['sh', '-c', 'printf "DOC public_key=%s" "$QLOG_SEAL_PUBLIC_KEY"'],
    },
    dir,
  );
  const sealed = (opts: ReturnType<typeof loadSealOptions>) => {
    const s = new Sealer(opts);
    const a = source('A', 0, 20);
    return [unit(s, a, 0, 10), unit(s, a, 10, 20), ...s.close('app').map((c) => formatSealedLine('A', a.seqs[19]!, a.seqs[19]!, c.bytes))];
  };
  writeFileSync(join(dir, 'good.log'), `${sealed(good).join('\n')}\n`);
  const r = await open(k, [join(dir, 'good.log')], ['--verify-key', k.signingPub, '--attestation-out', join(dir, 'att')]);
  assert.equal(r.code, 0, r.stderr);
  const m = /session (\w+): attestation document \(79 bytes, at \S+good\.log:1, saved as (\S+)\) contains the key of signer ed25519:/.exec(r.stderr);
  assert.ok(m, r.stderr);
  assert.match(readFileSync(m[2]!.replace(/,$/, ''), 'utf8'), /^DOC public_key=[0-9a-f]{64}$/);

  const wrong = loadSealOptions(
    { recipients: [k.recipient], signing_key_file: join(dir, 'keys/signing.key'), attestation_command: ['echo', 'DOC for another key'] },
    '/',
  );
  writeFileSync(join(dir, 'wrong.log'), `${sealed(wrong).join('\n')}\n`);
  const w = await open(k, [join(dir, 'wrong.log')]);
  assert.equal(w.code, 8, w.stderr);
  assert.match(
    w.stderr,
    /QLOG_ERR_SEAL_SIGNER: \S+wrong\.log:1: the attestation document in unit 0 of stream A \(session \w+\) does not contain the public key of signer ed25519:/,
  );

  assert.throws(
    () =>
      new Sealer(
        loadSealOptions(
          { recipients: [k.recipient], signing_key_file: join(dir, 'keys/signing.key'), attestation_command: ['sh', '-c', 'echo no device >&2; exit 3'] },
          '/',
        ),
      ),
    (e: Error & { code?: string }) =>
      e.code === 'QLOG_ERR_SEAL_KEY' && /the attestation command "sh -c echo no device >&2; exit 3" failed: no device/.test(e.message),
  );
  assert.throws(() => loadSealOptions({ recipients: ['age1notakey'] }, dir), /seal\.recipients\[0\]: "age1notakey" is not an age recipient/);
  assert.throws(() => loadSealOptions({}, dir), /sealing needs at least one recipient/);
  assert.throws(
    () => loadSealOptions({ recipients: [k.recipient], signing_key_file: 'keys/recipient.txt' }, dir),
    /keys\/recipient\.txt: not a PEM private key/,
  );
});
