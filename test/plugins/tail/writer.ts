/** Spawn fixtures/writer.mjs and wait for it. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/writer.mjs', import.meta.url));

export interface WriterOptions {
  path: string;
  from?: number;
  to: number;
  prefix?: string;
  pad?: number;
  batch?: number;
  rotateEvery?: number;
  mode?: 'none' | 'rename' | 'copytruncate';
  lateWrites?: number;
  sleepEvery?: number;
  afterRotateMs?: number;
  crlf?: boolean;
}

export interface WriterHooks {
  /** Before each rotation: resolve to let it happen (`first` = index of the current file's first line). */
  beforeRotate?: (first: number) => Promise<void>;
}

export function runWriter(o: WriterOptions, hooks: WriterHooks = {}, timeoutMs = 45_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const handshake = !!hooks.beforeRotate;
    const p = spawn(process.execPath, [script, JSON.stringify({ ...o, handshake })], { stdio: ['ignore', 'pipe', 'inherit', ...(handshake ? (['ipc'] as const) : [])] });
    p.on('message', (m: { first: number }) => {
      hooks.beforeRotate!(m.first).then(
        () => p.connected && p.send('go'),
        (err: unknown) => {
          p.kill('SIGKILL');
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error('writer timed out'));
    }, timeoutMs);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`writer exited with ${code}`));
    });
  });
}
