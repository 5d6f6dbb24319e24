/**
 * vsock-forward seal: end to end with real agents: enclave (tail -> vsock-forward seal:) over a
 * unix socket to the parent (vsock -> rotated-file). The parent's files hold sealed units only;
 * opening them (core/seal's opener) gives the input back byte for byte, across rotation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEvents } from '../../../core/forward/index.js';
import { runCli, startCli, type RunningCli } from '../../helpers/cli.js';
import { readRotated, rotatedFilesInOrder } from '../../helpers/checker.js';
import { openSealedLines, qlogOpen, sealingEnclaveYaml, sealKeys } from '../../helpers/sealed.js';
import { tempDir, writeConfig } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import type { HasAfter } from '../../helpers/tmp.js';

/** Lines no base64 text or JSON state can contain by chance: a number, random hex, non-ASCII. */
function inputLines(from: number, n: number): string[] {
  const out: string[] = [];
  for (let i = from; i < from + n; i++) out.push(`secret ${i} ${randomBytes(16).toString('hex')} é✓ ${'z'.repeat(i % 97)}`);
  return out;
}

async function started(a: RunningCli): Promise<void> {
  await a.waitForLine(/ started with /, { stream: 'stderr', timeoutMs: 20_000 });
}

async function stop(a: RunningCli): Promise<number | null> {
  a.signal('SIGTERM');
  return (await a.exited).code;
}

interface Setup {
  dir: string;
  log: string;
  key: { identityFile: string; recipient: string };
  parent: string;
  enclave: string;
}

function setup(t: HasAfter, parentOutputs?: string): Setup {
  const dir = tempDir(t, 'qlog-seal-');
  const key = sealKeys(dir);
  const log = join(dir, 'app.log');
  writeFileSync(log, '');
  const parent = writeConfig(
    dir,
    'parent.yaml',
    `
service: { state_dir: ${dir}/pstate }
pipeline:
  inputs:
    - { name: vsock, listen: unix://${dir}/parent.sock }
  outputs:
${parentOutputs ?? `    - { name: rotated-file, match: '*', workspace: ${dir}/ws, file: out.log, rotate_size: 64KB, rotate_num: 1000 }`}
`,
  );
  const enclave = writeConfig(
    dir,
    'enclave.yaml',
    sealingEnclaveYaml({ dir, log, connect: `unix://${dir}/parent.sock`, seal: `{ recipients: [${key.recipient}] }` }),
  );
  return { dir, log, key, parent, enclave };
}

/** Every file under `dir` (recursively). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

test('sealed end to end: the parent stores no plaintext line, opening restores the input byte for byte across rotation', async (t) => {
  const s = setup(t);
  const parent = startCli(['run', s.parent], { cwd: s.dir, owner: t, killAfterMs: 60_000 });
  await started(parent);
  const enclave = startCli(['run', s.enclave], { cwd: s.dir, owner: t, killAfterMs: 60_000 });
  await started(enclave);
  const lines: string[] = [];
  // Batches while running (several units, several rotations), and a blank line.
  for (let b = 0; b < 5; b++) {
    const batch = [...inputLines(b * 400, 400), ...(b === 2 ? [''] : [])];
    lines.push(...batch);
    appendFileSync(s.log, `${batch.join('\n')}\n`);
    await waitFor(() => openSealedLines(readRotated(join(s.dir, 'ws'), 'out.log', true), s.key.identityFile).lines.length === lines.length, {
      timeoutMs: 20_000,
      what: () => `batch ${b} to arrive\n${enclave.stderr.slice(-5).join('\n')}\n${parent.stderr.slice(-5).join('\n')}`,
    });
  }
  assert.equal(await stop(enclave), 0);
  assert.equal(await stop(parent), 0);

  const stored = readRotated(join(s.dir, 'ws'), 'out.log', true);
  const files = readdirSync(join(s.dir, 'ws'));
  assert.ok(files.length >= 5, `rotated at 64KB: ${files.join(', ')}`);
  const o = openSealedLines(stored, s.key.identityFile);
  assert.deepEqual(o.plain, [], 'every line the parent wrote is a sealed unit');
  assert.equal(`${o.lines.join('\n')}\n`, readFileSync(s.log, 'utf8'), 'the input, byte for byte');
  assert.deepEqual(
    o.problems.map((p) => p.message),
    [],
    'no gap, reorder, duplicate, and the closing unit ended the stream',
  );
  for (const l of stored) assert.match(l, /^qlog-sealed\/1 \S+ \d+-\d+ [A-Za-z0-9+/=]+$/);
  const size = readFileSync(s.log).length;
  assert.ok(stored.at(-1)!.includes(` ${size}-${size} `), 'the graceful stop sent the closing unit last (its range: the end of the input)');
  // qlog open (the CLI), files oldest first: the input byte for byte, no problem, exit 0.
  const opened = await qlogOpen(s.key.identityFile, rotatedFilesInOrder(join(s.dir, 'ws'), 'out.log'));
  assert.equal(opened.code, 0, opened.stderr);
  assert.match(opened.stderr, /^qlog open: \d+ units, 2001 records, 1 streams, 1 sessions: OK\n$/m);
  assert.doesNotMatch(opened.stderr, /QLOG_ERR/, 'no problem reported (notes aside)');
  assert.equal(opened.stdout, readFileSync(s.log, 'utf8'), 'qlog open restores the input byte for byte');

  // grep -F every input line in every file the parent wrote (workspace and state): nothing.
  const written = [...filesUnder(join(s.dir, 'ws')), ...filesUnder(join(s.dir, 'pstate'))];
  const patterns = join(s.dir, 'patterns.txt');
  writeFileSync(patterns, `${lines.filter((l) => l !== '').join('\n')}\n`);
  const grep = spawnSync('grep', ['-F', '-l', '-f', patterns, ...written], { encoding: 'utf8' });
  assert.equal(grep.status, 1, `grep found input lines in ${grep.stdout} ${grep.stderr}`);
  // The same patterns do match the input (the grep can fail).
  assert.equal(spawnSync('grep', ['-F', '-c', '-f', patterns, s.log], { encoding: 'utf8' }).stdout.trim(), String(lines.length - 1));
  for (const l of lines) if (l) assert.ok(!parent.stderr.some((e) => e.includes(l)), "the parent's log has no input line");
});

test('age -d opens a unit extracted from the file with the documented one-liner', { skip: !hasAge() && 'age is not installed' }, async (t) => {
  const s = setup(t);
  writeFileSync(s.log, `${inputLines(0, 50).join('\n')}\n`);
  const parent = startCli(['run', s.parent], { cwd: s.dir, owner: t });
  await started(parent);
  const enclave = startCli(['run', s.enclave], { cwd: s.dir, owner: t });
  await started(enclave);
  await waitFor(() => readRotated(join(s.dir, 'ws'), 'out.log', true).length >= 1, { what: 'a unit' });
  assert.equal(await stop(enclave), 0);
  assert.equal(await stop(parent), 0);
  // docs/sealing.md: sed -n 1p out.log | cut -d' ' -f4 | base64 -d > unit.age && age -d -i key.txt unit.age
  const plain = execFileSync(
    'sh',
    ['-c', `sed -n 1p ws/out.log* | head -1 | cut -d' ' -f4 | base64 -d > unit.age && age -d -i ${s.key.identityFile} unit.age`],
    {
      cwd: s.dir,
    },
  );
  // docs/sealing.md: version 2, the file's path and src once in the header's meta, not in the records.
  const nl = plain.indexOf(0x0a);
  assert.equal(plain.toString('latin1', 0, 12), 'qlog-seal/2 ');
  const header = JSON.parse(plain.toString('utf8', 12, nl)) as { v: number; stream: string; count: number; size: number; meta: Record<string, unknown> };
  assert.equal(header.v, 2);
  assert.deepEqual(header.meta, { path: s.log, src: header.stream });
  const entries = plain.subarray(nl + 1, nl + 1 + header.size);
  assert.equal(plain.length, nl + 1 + header.size, 'unsigned: no signature after the entries');
  const records = decodeEvents(['app', entries], { maxDecompressed: 1 << 24 }).records;
  assert.equal(records.length, header.count);
  assert.equal(records[0]!.body, readFileSync(s.log, 'utf8').split('\n')[0]);
  for (const r of records) assert.deepEqual(Object.keys(r.meta), ['seq'], 'a record in the unit has only its seq');
  assert.ok(!entries.includes(Buffer.from(s.log)), 'the path is not repeated in the entries');
});

function hasAge(): boolean {
  return spawnSync('age', ['--version']).status === 0;
}

test('a forward relay passes sealed units on untouched (bin stays bin): the last hop opens them', async (t) => {
  const dir2 = tempDir(t, 'qlog-seal-hop-');
  const s = setup(
    t,
    `    - { name: vsock-forward, match: '*', connect: unix://${dir2}/hop.sock, reconnect_base: 50ms }
    - { name: rotated-file, match: '*', workspace: WS1, file: out.log }`,
  );
  writeFileSync(s.parent, readFileSync(s.parent, 'utf8').replace('WS1', join(s.dir, 'ws1')));
  const last = writeConfig(
    dir2,
    'last.yaml',
    `
service: { state_dir: ${dir2}/state }
pipeline:
  inputs:
    - { name: vsock, listen: unix://${dir2}/hop.sock }
  outputs:
    - { name: rotated-file, match: '*', workspace: ${dir2}/ws, file: out.log, rotate_size: 32KB }
`,
  );
  const lines = inputLines(0, 1500);
  writeFileSync(s.log, `${lines.join('\n')}\n`);
  const hop = startCli(['run', last], { cwd: dir2, owner: t });
  await started(hop);
  const parent = startCli(['run', s.parent], { cwd: s.dir, owner: t });
  await started(parent);
  const enclave = startCli(['run', s.enclave], { cwd: s.dir, owner: t });
  await started(enclave);
  await waitFor(() => openSealedLines(readRotated(join(dir2, 'ws'), 'out.log', true), s.key.identityFile).lines.length === lines.length, {
    timeoutMs: 20_000,
    what: 'every record at the last hop',
  });
  assert.equal(await stop(enclave), 0);
  assert.equal(await stop(parent), 0);
  assert.equal(await stop(hop), 0);
  const atHop = readRotated(join(dir2, 'ws'), 'out.log', true);
  const o = openSealedLines(atHop, s.key.identityFile);
  assert.deepEqual(o.lines, lines);
  assert.deepEqual(o.problems, []);
  // The same unit lines as the first parent wrote (the src is the same: unix peers are not namespaced).
  assert.deepEqual(atHop, readRotated(join(s.dir, 'ws1'), 'out.log', true));
  const opened = await qlogOpen(s.key.identityFile, rotatedFilesInOrder(join(dir2, 'ws'), 'out.log'));
  assert.equal(opened.code, 0, opened.stderr);
  assert.equal(opened.stdout, `${lines.join('\n')}\n`);
});

test('config: a bad recipient and an unreadable recipients file are reported at their file:line:column', async (t) => {
  const dir = tempDir(t);
  const { recipient } = sealKeys(dir);
  const cfg = (seal: string) =>
    writeConfig(
      dir,
      'e.yaml',
      `
pipeline:
  inputs:
    - { name: dummy }
  outputs:
    - name: vsock-forward
      connect: unix:///tmp/x.sock
      seal:
${seal}
`,
    );
  let r = await runCli(['validate', cfg(`        recipients:\n          - ${recipient}\n          - age1notakey`)], { cwd: dir });
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr + r.stdout,
    /e\.yaml:10:13: pipeline\.outputs\[0\]\.seal\.recipients\[1\]: "age1notakey" is not an age recipient/,
    'points at the second recipient',
  );
  assert.match(r.stderr + r.stdout, /age1notakey/);
  r = await runCli(['validate', cfg('        recipients_file: missing.txt')], { cwd: dir });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr + r.stdout, /e\.yaml:8:26/);
  assert.match(r.stderr + r.stdout, /missing\.txt.*ENOENT/);
  r = await runCli(['validate', cfg(`        recipients: [${recipient}]\n        signing_key_file: ${join(dir, 'key.txt')}`)], { cwd: dir });
  assert.notEqual(r.code, 0, 'an age identity is not an Ed25519 signing key');
  assert.match(r.stderr + r.stdout, /e\.yaml:9:27/);
  r = await runCli(['validate', cfg(`        signing_key_file: sign.pem`)], { cwd: dir });
  assert.match(r.stderr + r.stdout, /expected recipients or recipients_file with signing_key_file/);
  r = await runCli(['validate', cfg(`        recipients: [${recipient}]`)], { cwd: dir });
  assert.equal(r.code, 0, r.stderr + r.stdout);
});
