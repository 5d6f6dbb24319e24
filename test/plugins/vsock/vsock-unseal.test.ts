/**
 * vsock unseal: a trusted aggregator opens sealed units (real agents: enclave tail ->
 * vsock-forward seal + signing key -> aggregator vsock unseal -> rotated-file) and writes the
 * plain records; units that fail (not age, or signed by a key it does not trust) are counted per
 * kind, logged, never delivered, and the agent keeps going.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, type RunningCli } from '../../helpers/cli.js';
import { readRotated } from '../../helpers/checker.js';
import { sealingEnclaveYaml, sealKeys } from '../../helpers/sealed.js';
import { tempDir, writeConfig } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { Sealer } from '../../../core/seal/index.js';
import { encodeEntries, encodePackedForward } from '../../../core/forward/index.js';
import { sender } from './client.js';

function signingKey(dir: string, name: string): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const priv = join(dir, `${name}.pem`);
  const pub = join(dir, `${name}.pub.pem`);
  writeFileSync(priv, privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(pub, publicKey.export({ format: 'pem', type: 'spki' }));
  return { priv, pub };
}

/** The trusted aggregator: vsock `link` on dir/aggr.sock with `unseal` (a YAML flow map) -> rotated-file ws/out.log. */
function aggregatorYaml(dir: string, unseal: string): string {
  return `
service: { state_dir: ${dir}/astate, http_listen: 127.0.0.1:0 }
pipeline:
  inputs:
    - name: vsock
      alias: link
      listen: unix://${dir}/aggr.sock
      unseal: ${unseal}
  outputs:
    - { name: rotated-file, match: '*', workspace: ${dir}/ws, file: out.log }
`;
}

async function counters(a: RunningCli, id: string): Promise<Record<string, number>> {
  const base = a.stderr.map((l) => /metrics on (http:\/\/[^/"]+)\/metrics/.exec(l)?.[1]).find(Boolean);
  const list = (await (await fetch(`${base}/api/v1/metrics`)).json()) as { id: string; counters: Record<string, number> }[];
  return list.find((m) => m.id === id)?.counters ?? {};
}

test('unseal: the aggregator opens and checks the units and writes the records; bad units are counted and dropped', async (t) => {
  const dir = tempDir(t, 'qlog-unseal-');
  const key = sealKeys(dir);
  signingKey(dir, 'enclave'); // writes enclave.pem and enclave.pub.pem, which the configs name
  const stranger = signingKey(dir, 'stranger');
  const log = join(dir, 'app.log');
  const lines = Array.from({ length: 800 }, (_, i) => `plain ${i} ${randomBytes(8).toString('hex')}`);
  writeFileSync(log, `${lines.slice(0, 400).join('\n')}\n`);
  const aggr = writeConfig(dir, 'aggr.yaml', aggregatorYaml(dir, '{ identity_file: key.txt, verify_key_files: [enclave.pub.pem] }'));
  const enclave = writeConfig(
    dir,
    'enclave.yaml',
    sealingEnclaveYaml({
      dir,
      log,
      connect: `unix://${dir}/aggr.sock`,
      flushMax: '8KiB',
      seal: `{ recipients: [${key.recipient}], signing_key_file: enclave.pem }`,
    }),
  );
  const a = startCli(['run', aggr], { cwd: dir, owner: t, killAfterMs: 60_000 });
  await a.waitForLine(/ started with /, { stream: 'stderr' });
  const e = startCli(['run', enclave], { cwd: dir, owner: t, killAfterMs: 60_000 });
  await e.waitForLine(/ started with /, { stream: 'stderr' });
  const out = () => readRotated(join(dir, 'ws'), 'out.log', true);
  await waitFor(() => out().length === 400, { what: () => `the first 400 records: ${out().length}\n${a.stderr.slice(-5).join('\n')}` });

  // Another sender: a unit that is not age, and one sealed to the key but signed by a stranger.
  const s = await sender(`unix://${dir}/aggr.sock`);
  t.after(() => s.close());
  const forged = new Sealer({ recipients: [key.recipient], signingKey: createPrivateKey(readFileSync(stranger.priv, 'utf8')) });
  const bogus = forged.seal({
    stream: 'x',
    start: 0,
    first: 10,
    last: 10,
    count: 1,
    tag: 'app',
    entries: encodeEntries([{ time: 1n, tag: 'app', body: 'forged line', meta: { src: 'x', seq: 10 } }]),
  });
  for (const [id, bytes] of [
    ['junk', Buffer.from('not an age file')],
    ['forged', bogus],
  ] as const) {
    s.session.send(
      encodePackedForward(
        'app',
        encodeEntries([{ time: 1n, tag: 'app', body: { sealed: bytes }, meta: { src: 'x', seq: 10, seq_first: 10, sealed_size: bytes.length } }]),
        { chunk: id, size: 1 },
      ),
      id,
    );
  }
  // A record that is not a sealed unit, with any text, src and seq: a relay injecting records.
  s.send('plain', ['injected line'], 'app', () => ({ src: 'x', seq: 1e12 }));
  await waitFor(() => s.acks.length === 3, { what: 'the bad units and the plain record acked (dropped, not retried forever)' });

  appendFileSync(log, `${lines.slice(400).join('\n')}\n`);
  await waitFor(() => out().length === 800, { what: () => `all 800 records: ${out().length}` });
  const c = await counters(a, 'link');
  a.signal('SIGTERM');
  e.signal('SIGTERM');
  assert.equal((await e.exited).code, 0);
  assert.equal((await a.exited).code, 0);

  assert.deepEqual(out(), lines, 'the plain records, in order, nothing else');
  assert.equal(c.unseal_auth, 1, `the junk unit: ${JSON.stringify(c)}`);
  assert.equal(c.unseal_signer, 1, 'the unit signed by an unknown key');
  assert.equal(c.unseal_plain_dropped, 1, 'the plain record, dropped (plain_records: drop is the default)');
  assert.equal(c.unseal_plain_records ?? 0, 0);
  assert.equal(c.unseal_chunks_held ?? 0, 0, 'units of this sender open: the bad ones are acked, not held');
  assert.equal(c.unseal_gap ?? 0, 0);
  assert.equal(c.unseal_reorder ?? 0, 0);
  assert.ok(c.units_opened! >= 2, `units opened: ${c.units_opened}`);
  const warned = a.stderr.join('\n');
  assert.match(warned, /link: unit x 10-10 from \S+: not a sealed unit/);
  assert.match(warned, /link: unit x 10-10 from \S+: unknown signer ed25519:/);
  assert.match(warned, /link: \S+: dropped a record that is not a sealed unit \(src x, seq 1000000000000\)/);
});

test('unseal with plain_records: pass: records that are not sealed units are delivered and counted', async (t) => {
  const dir = tempDir(t, 'qlog-unseal-');
  sealKeys(dir);
  const aggr = writeConfig(dir, 'aggr.yaml', aggregatorYaml(dir, '{ identity_file: key.txt, plain_records: pass }'));
  const a = startCli(['run', aggr], { cwd: dir, owner: t, killAfterMs: 30_000 });
  await a.waitForLine(/ started with /, { stream: 'stderr' });
  const s = await sender(`unix://${dir}/aggr.sock`);
  t.after(() => s.close());
  s.send('c1', ['one', 'two', 'three'], 'app', (i) => ({ src: 'p', seq: i + 1 }));
  await waitFor(() => s.acks.length === 1, { what: 'the chunk acked' });
  const out = () => readRotated(join(dir, 'ws'), 'out.log', true);
  await waitFor(() => out().length === 3, { what: () => `the 3 records: ${out().length}` });
  const c = await counters(a, 'link');
  a.signal('SIGTERM');
  assert.equal((await a.exited).code, 0);
  assert.deepEqual(out(), ['one', 'two', 'three']);
  assert.equal(c.unseal_plain_records, 3);
  assert.equal(c.unseal_plain_dropped ?? 0, 0);
  assert.doesNotMatch(a.stderr.join('\n'), /not a sealed unit/);
});

test('unseal with the wrong identity: units are held back (not acked), reported once and in health; the right key then gets them all', async (t) => {
  const dir = tempDir(t, 'qlog-unseal-');
  const key = sealKeys(dir); // key.txt: the enclave seals to its recipient
  const wrong = sealKeys(dir, 'wrong');
  const log = join(dir, 'app.log');
  const lines = Array.from({ length: 300 }, (_, i) => `held ${i} ${randomBytes(8).toString('hex')}`);
  const aggrYaml = (identity: string) => aggregatorYaml(dir, `{ identity_file: ${identity} }`);
  const enclave = writeConfig(
    dir,
    'enclave.yaml',
    sealingEnclaveYaml({ dir, log, connect: `unix://${dir}/aggr.sock`, flushMax: '1KiB', seal: `{ recipients: [${key.recipient}] }` }),
  );
  const a = startCli(['run', writeConfig(dir, 'aggr.yaml', aggrYaml(wrong.identityFile))], { cwd: dir, owner: t, killAfterMs: 60_000 });
  await a.waitForLine(/ started with /, { stream: 'stderr' });
  writeFileSync(log, '');
  const e = startCli(['run', enclave], { cwd: dir, owner: t, killAfterMs: 60_000 });
  await e.waitForLine(/ started with /, { stream: 'stderr' });
  // Two batches, two units (vsock-forward's 2 workers: as many as go out unacked).
  for (let k = 0; k < 2; k++) {
    appendFileSync(log, `${lines.slice(k * 150, (k + 1) * 150).join('\n')}\n`);
    await waitFor(async () => ((await counters(a, 'link')).unseal_auth ?? 0) > k, {
      what: () => `unit ${k} refused\n${e.stderr.slice(-8).join('\n')}\n${a.stderr.slice(-4).join('\n')}`,
    });
  }
  const failing = await a.waitForLine(/no identity in unseal\.identity_file opens the units/, { stream: 'stderr', timeoutMs: 20_000 });
  assert.match(failing, /"level":50/, 'an error');
  assert.match(failing, /held back \(not acknowledged\)/);
  const base = a.stderr.map((l) => /metrics on (http:\/\/[^/"]+)\/metrics/.exec(l)?.[1]).find(Boolean);
  const health = await fetch(`${base}/api/v1/health`);
  assert.equal(health.status, 500);
  assert.deepEqual(((await health.json()) as { reasons: string[] }).reasons, ['input link reports unseal_senders_failing 1 (its log says why)']);
  const c = await counters(a, 'link');
  assert.ok(c.unseal_auth! >= 2 && c.unseal_chunks_held! >= 2, `units no key opens, their chunks held: ${JSON.stringify(c)}`);
  assert.equal(c.units_opened ?? 0, 0);
  const warnings = a.stderr.filter((l) => /cannot open the unit/.test(l));
  assert.equal(warnings.length, 1, `one warning for ${c.unseal_auth} units (then a summary per 30 s): ${warnings.join('\n')}`);
  assert.deepEqual(readRotated(join(dir, 'ws'), 'out.log', true), [], 'nothing delivered');
  a.signal('SIGTERM');
  assert.equal((await a.exited).code, 0);

  // The key fixed: the enclave resends what was never acked, and all of it opens, once.
  const b = startCli(['run', writeConfig(dir, 'aggr.yaml', aggrYaml('key.txt'))], { cwd: dir, owner: t, killAfterMs: 60_000 });
  await b.waitForLine(/ started with /, { stream: 'stderr' });
  const out = () => readRotated(join(dir, 'ws'), 'out.log', true);
  await waitFor(() => out().length >= lines.length, { what: () => `all ${lines.length} records: ${out().length}`, timeoutMs: 20_000 });
  const c2 = await counters(b, 'link');
  e.signal('SIGTERM');
  assert.equal((await e.exited).code, 0);
  b.signal('SIGTERM');
  assert.equal((await b.exited).code, 0);
  assert.deepEqual(out(), lines, 'every record, once, in order');
  assert.equal(c2.unseal_senders_failing, 0);
  assert.equal(c2.unseal_auth ?? 0, 0);
});
