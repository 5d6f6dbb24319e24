// Interop with a real Fluent client nobody here wrote: the fluent-logger npm package (the Fluentd
// project's Node client) sends to the vsock input over tcp and unix, with and without acks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createHarness } from '../../../core/testing/index.js';
import vsock from '../../../plugins/vsock/index.js';
import { tempDir } from '../../helpers/tmp.js';

const require = createRequire(import.meta.url);
const fluent = require('fluent-logger') as {
  createFluentSender(
    tag: string,
    o: Record<string, unknown>,
  ): {
    emit(label: string, data: Record<string, unknown>, cb?: (err?: Error) => void): void;
    end(label?: string, data?: unknown, cb?: () => void): void;
    on(ev: string, f: (e: unknown) => void): void;
  };
};

const quiet = { info() {}, error() {}, warn() {}, debug() {} };
const N = 50;

async function run(
  t: { after(f: () => void): void },
  listen: (dir: string) => string,
  client: (uri: string) => Record<string, unknown>,
  inputOpts: Record<string, unknown> = {},
) {
  const dir = tempDir(t);
  const h = await createHarness(vsock, { options: { listen: listen(dir), ...inputOpts }, output: { workers: 4 } });
  t.after(() => void h.stop({ grace: 200 }));
  // The actual address (tcp port 0 becomes a real port) is in the "listening on" log line.
  const line = h.logs.map((l) => String(l.msg)).find((m) => m.includes('listening on'))!;
  const uri = line.slice(line.indexOf('listening on ') + 13);
  const s = fluent.createFluentSender('fl', { internalLogger: quiet, reconnectInterval: 100, ...client(uri) });
  s.on('error', () => {});
  const errors: unknown[] = [];
  await Promise.all(
    Array.from(
      { length: N },
      (_, i) =>
        new Promise<void>((res) =>
          s.emit('app', { message: `m${i}`, n: i }, (err) => {
            if (err) errors.push(err);
            res();
          }),
        ),
    ),
  );
  const got = await h.collect({ count: N, timeout: 10_000 });
  s.end();
  assert.deepEqual(errors, []);
  assert.deepEqual(
    got.map((r) => (r.body as { n: number }).n).sort((a, b) => a - b),
    Array.from({ length: N }, (_, i) => i),
  );
  assert.equal(got[0]!.tag, 'fl.app');
  assert.ok(got[0]!.time > 1_600_000_000_000_000_000n);
  return h;
}

const tcp = () => 'tcp://127.0.0.1:0';
const tcpClient = (uri: string) => ({ host: '127.0.0.1', port: Number(uri.slice(uri.lastIndexOf(':') + 1)) });
const unix = (dir: string) => `unix://${join(dir, 'fl.sock')}`;
const unixClient = (uri: string) => ({ path: uri.slice('unix://'.length) });

for (const requireAckResponse of [false, true]) {
  for (const eventMode of ['Message', 'PackedForward', 'CompressedPackedForward']) {
    test(`fluent-logger over tcp, ${eventMode}, requireAckResponse ${requireAckResponse}`, async (t) => {
      await run(t, tcp, (u) => ({ ...tcpClient(u), requireAckResponse, eventMode }));
    });
  }
  test(`fluent-logger over unix, requireAckResponse ${requireAckResponse}`, async (t) => {
    await run(t, unix, (u) => ({ ...unixClient(u), requireAckResponse }));
  });
}

test('fluent-logger with shared_key (HELO/PING/PONG) over tcp', async (t) => {
  const h = await run(t, tcp, (u) => ({ ...tcpClient(u), requireAckResponse: true, security: { clientHostname: 'client.local', sharedKey: 'sekret' } }), {
    shared_key: 'sekret',
  });
  assert.equal(h.counters.peers_dropped ?? 0, 0);
});
