/** Network bits for tests: a free TCP port on 127.0.0.1, and a GET that returns status + body. */
import { createServer } from 'node:net';

/** A port that was free a moment ago (bind to 0, read it, close). Tiny race with other processes. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** GET `url` with a timeout (default 5 s). */
export async function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}
