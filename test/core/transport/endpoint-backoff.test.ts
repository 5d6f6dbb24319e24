// Endpoint redial policy (issue 12): the backoff restarts after a connection that made progress,
// and keeps growing for a peer that accepts and fails at once. Observed through the endpoint's
// own "next dial" decisions (attempt numbers), not through timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Endpoint } from '../../../core/transport/endpoint.js';
import { captureLogger } from '../../helpers/engine.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

/** A unix server that closes each connection at once; `hold` keeps the next ones open until released. */
async function closingServer(path: string) {
  const open: Socket[] = [];
  let hold = false;
  const server = createServer((s) => {
    s.on('error', () => undefined);
    if (hold) open.push(s);
    else s.destroy();
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    set hold(v: boolean) {
      hold = v;
    },
    get open() {
      return open.length;
    },
    release: () => {
      for (const s of open.splice(0)) s.destroy();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function attempts(logs: Record<string, unknown>[]): number[] {
  return logs.filter((l) => typeof l.attempt === 'number').map((l) => l.attempt as number);
}

test('backoff: grows while the peer accepts and fails at once; restarts after progress', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'p.sock');
  const server = await closingServer(path);
  t.after(() => server.close());
  const { logger, logs } = captureLogger('debug');
  let onConn: (s: Socket) => Promise<void> = async () => undefined;
  const ep = new Endpoint({
    connect: `unix://${path}`,
    listen: '',
    connectTimeoutMs: 1000,
    reconnectBaseMs: 20,
    reconnectMaxMs: 60_000,
    log: logger,
    name: 'test',
    onConnection: (s) => onConn(s as Socket),
  });
  const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));
  onConn = closed;
  t.after(() => ep.stop());
  await ep.start();
  // Accepted and closed at once, no progress: each redial waits longer (attempts 0, 1, 2, 3).
  await waitFor(() => attempts(logs).length >= 4, { what: '4 redials', timeoutMs: 10_000 });
  assert.deepEqual(attempts(logs).slice(0, 4), [0, 1, 2, 3]);

  // The next connection stays open and makes progress (an ack, say); when it ends, the backoff restarts.
  server.hold = true;
  onConn = async (s) => {
    ep.progressed();
    await closed(s);
  };
  await waitFor(() => server.open === 1, { what: 'a held connection', timeoutMs: 20_000 });
  const before = attempts(logs).length;
  server.hold = false;
  server.release();
  await waitFor(() => attempts(logs).length > before, { what: 'the redial after progress', timeoutMs: 10_000 });
  assert.equal(attempts(logs)[before], 0, `after progress the backoff starts over: ${attempts(logs)}`);
});

test('dial failures: the first at once (warn), the rest at debug, a periodic summary, one line when connected', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'late.sock');
  const { logger, logs } = captureLogger('debug');
  const ep = new Endpoint({
    connect: `unix://${path}`,
    listen: '',
    connectTimeoutMs: 1000,
    reconnectBaseMs: 10,
    reconnectMaxMs: 40,
    failureSummaryMs: 300,
    log: logger,
    name: 'test',
    onConnection: (s) => new Promise<void>((r) => s.once('close', () => r())),
  });
  t.after(() => ep.stop());
  await ep.start();
  const failures = () => logs.filter((l) => /cannot connect to/.test(String(l.msg)));
  const summary = await waitFor(() => logs.find((l) => /still cannot connect/.test(String(l.msg))), { what: 'a summary' });
  assert.match(
    String(summary.msg),
    new RegExp(`^test: still cannot connect to unix://${path}: \\d+ attempts in \\d+ s, last error: .+; next try in \\d+\\.\\d s$`),
  );
  assert.equal(summary.level, 40);
  const warns = failures().filter((l) => l.level === 40 && !/still/.test(String(l.msg)));
  assert.equal(warns.length, 1, 'one warning for the first failure, the others at debug');
  assert.match(String(warns[0]!.msg), new RegExp(`^test: cannot connect to unix://${path}: .*; retrying with backoff$`));
  assert.ok(failures().filter((l) => l.level === 20).length >= 1);
  const server = await closingServer(path);
  server.hold = true;
  t.after(() => {
    server.release();
    return server.close();
  });
  const ok = await waitFor(() => logs.find((l) => /connected to/.test(String(l.msg))), { what: 'connected' });
  assert.match(String(ok.msg), new RegExp(`^test: connected to unix://${path} after \\d+ failed attempts \\(\\d+ s\\)$`));
  assert.equal(ok.level, 30);
});
