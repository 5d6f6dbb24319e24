// AF_VSOCK: listening only. Never connect() on AF_VSOCK here (no loopback; every CID is the hypervisor).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, listen, loadVsock, TransportError } from '../../../core/transport/index.js';

async function available(): Promise<string | undefined> {
  try {
    await loadVsock();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

test('vsock unavailability is a clear TransportError, only for vsock addresses', async (t) => {
  const why = await available();
  if (why === undefined) return t.skip('vsock addon is available');
  assert.match(why, /vsock transport unavailable: .*unix:\/\/, tcp:\/\/ or vsock\+unix:\/\//);
  await assert.rejects(
    listen('vsock://any:50123', () => {}),
    (e: unknown) => e instanceof TransportError && e.code === 'QLOG_ERR_VSOCK_UNAVAILABLE',
  );
});

test('vsock: "any" is refused for connect before touching a socket', async () => {
  await assert.rejects(connect('vsock://any:6000'), (e: unknown) => e instanceof TransportError && e.code === 'QLOG_ERR_TRANSPORT_ADDRESS');
});

test('vsock: listen on any CID and close', async (t) => {
  const why = await available();
  if (why !== undefined) return t.skip(why);
  const l = await listen('vsock://any:50123', () => {});
  assert.equal(l.uri, 'vsock://any:50123');
  await l.close();
  // The port is free again.
  const l2 = await listen('vsock://any:50123', () => {});
  await l2.close();
});
