// Every file in conf/ must be valid: native configs pass `qlog validate`, qlog configs (.toml, or
// YAML with monitor_items) pass `qlog migrate` (which also loads what it generates).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli.js';

const dir = join(ROOT, 'conf');
const files = readdirSync(dir)
  .filter((f) => /\.(ya?ml|toml)$/.test(f))
  .sort();
const isQlog = (f: string) => f.endsWith('.toml') || /^monitor_items\s*:/m.test(readFileSync(join(dir, f), 'utf8'));

test('conf/ has the samples the docs promise', () => {
  for (const f of ['enclave.yaml', 'parent.yaml', 'config_qlog.toml', 'demo-enclave.yaml', 'demo-parent.yaml', 'rotated-file.yaml'])
    assert.ok(files.includes(f), `conf/${f} is missing`);
});

for (const f of files) {
  test(`conf/${f} is valid (${isQlog(f) ? 'qlog migrate' : 'qlog validate'})`, async () => {
    const r = await runCli(isQlog(f) ? ['migrate', `conf/${f}`] : ['validate', `conf/${f}`], { cwd: ROOT });
    assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}${r.stdout}`);
    if (!isQlog(f)) assert.match(r.stdout, /: OK \(/);
    else assert.match(r.stdout, /name: vsock-forward[\s\S]*name: rotated-file/);
  });
}
