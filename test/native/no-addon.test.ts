// Without the addon (QLOG_VSOCK_ADDON=off simulates a failed build or a non-Linux machine):
// importing still works, vsockAvailable() explains, every entry point throws UNAVAILABLE.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const modUrl = new URL('../../core/transport/vsock-native.ts', import.meta.url).href;

const script = `
const m = await import(${JSON.stringify(modUrl)});
const out = { available: m.vsockAvailable() };
const code = async (f) => { try { await f(); return 'no error'; } catch (e) { return e.code + ': ' + e.message; } };
out.localCid = await code(() => m.localCid());
// Guard: connect() on AF_VSOCK must never really happen here, even if the override broke.
out.connect = out.available.ok ? 'not run: the addon loaded' : await code(() => m.connectVsock({ cid: 3, port: 5000 }));
out.listen = await code(() => new m.VsockServer().listen({ cid: m.VMADDR_CID_ANY, port: 5000 }));
out.pair = await code(() => m.unixSocketPair());
console.log(JSON.stringify(out));
`;

test('everything reports QLOG_ERR_VSOCK_UNAVAILABLE when the addon is missing', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, QLOG_VSOCK_ADDON: 'off' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(out.available.ok, false);
  assert.match(out.available.reason, /vsock addon could not be loaded \(disabled by QLOG_VSOCK_ADDON=off\); build it with "node native\/build.mjs"/);
  for (const k of ['localCid', 'connect', 'listen', 'pair']) {
    assert.match(out[k], /^QLOG_ERR_VSOCK_UNAVAILABLE: the qlog vsock addon could not be loaded/, k);
  }
});

test('a bad addon path is reported with the loader error', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, QLOG_VSOCK_ADDON: '/nonexistent/qlog_vsock.node' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(out.available.ok, false);
  assert.match(out.available.reason, /Cannot find module '\/nonexistent\/qlog_vsock.node'/);
});
