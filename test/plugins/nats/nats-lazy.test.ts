// The NATS client costs ~12 MB and ~80 ms to load: only a nats output that starts loads it. The
// built-in registry (every agent, the enclave's too) and a nats output's setup do not.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../helpers/cli.js';

const dist = (p: string) => pathToFileURL(join(ROOT, 'dist', p)).href;

const script = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => Object.keys(require.cache).some((k) => k.includes('@nats-io'));
const { builtinRegistry } = await import('${dist('core/builtins.js')}');
builtinRegistry();
const atLoad = loaded();
const { createHarness } = await import('${dist('core/testing/index.js')}');
const { default: nats } = await import('${dist('plugins/nats/index.js')}');
const h = await createHarness(nats, { options: { stream: 'LOGS', servers: ['nats://127.0.0.1:1'] }, start: false });
const atSetup = loaded();
await h.start();
const atStart = loaded();
await h.stop({ grace: 100 });
console.log(JSON.stringify({ atLoad, atSetup, atStart }));
`;

test('the NATS client is loaded when a nats output starts, not by the registry or setup', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), { atLoad: false, atSetup: false, atStart: true });
});
