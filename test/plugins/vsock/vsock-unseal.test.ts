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
  const aggr = writeConfig(
    dir,
    'aggr.yaml',
    `
service: { state_dir: ${dir}/astate, http_listen: 127.0.0.1:0 }
pipeline:
  inputs:
    - name: vsock
      alias: link
      listen: unix://${dir}/aggr.sock
      unseal: { identity_file: key.txt, verify_key_files: [enclave.pub.pem] }
  outputs:
    - { name: rotated-file, match: '*', workspace: ${dir}/ws, file: out.log }
`,
  );
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
  await waitFor(() => s.acks.length === 2, { what: 'the bad units acked (dropped, not retried forever)' });

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
  assert.equal(c.unseal_gap ?? 0, 0);
  assert.equal(c.unseal_reorder ?? 0, 0);
  assert.ok(c.units_opened! >= 2, `units opened: ${c.units_opened}`);
  const warned = a.stderr.join('\n');
  assert.match(warned, /link: unit x 10-10 from \S+: not a sealed unit/);
  assert.match(warned, /link: unit x 10-10 from \S+: unknown signer ed25519:/);
});
