// The enclave must not pay for what it does not use: an agent without an http output loads neither
// node:http nor node:https (the plugin's client loads in setup), and one without rotated-file or
// gzip does not load zlib (rotating-file-stream loads on first use); an agent with an http output
// does load them. (child_process is not checked: msgpackr's native extension loader, detect-libc,
// requires it in every agent.)
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCli } from '../../helpers/cli.js';
import { tempDir, writeConfig } from '../../helpers/tmp.js';

const HEAVY = ['NativeModule http', 'NativeModule https', 'NativeModule zlib'];

/** Runs the config until its first stdout line or request, and lists the heavy modules loaded. */
async function loaded(t: import('node:test').TestContext, outputs: string, waitFor: RegExp): Promise<string[]> {
  const dir = tempDir(t);
  const probe = join(dir, 'probe.cjs');
  const out = join(dir, 'modules.json');
  writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.moduleLoadList)));\n`);
  writeConfig(dir, 'a.yaml', `pipeline:\n  inputs: [{ name: dummy, dummy: 'x', rate: 50 }]\n  outputs: [${outputs}]\n`);
  const a = startCli(['run', 'a.yaml'], { owner: t, cwd: dir, env: { NODE_OPTIONS: `--require ${probe}` } });
  await a.waitForLine(waitFor, { stream: waitFor.source.includes('x') ? 'stdout' : 'stderr' });
  a.signal('SIGTERM');
  await a.exited;
  const list = JSON.parse(readFileSync(out, 'utf8')) as string[];
  return HEAVY.filter((m) => list.includes(m));
}

test('an agent with stdout only loads no http, https or zlib module', async (t) => {
  assert.deepEqual(await loaded(t, '{ name: stdout }', /^x$/), []);
});

test('an agent with an http output loads them (the probe sees modules)', async (t) => {
  const mods = await loaded(t, "{ name: http, url: 'http://127.0.0.1:9' }", /request to http/);
  assert.ok(mods.includes('NativeModule http') && mods.includes('NativeModule https'), JSON.stringify(mods));
});
