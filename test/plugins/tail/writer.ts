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

export function runWriter(o: WriterOptions, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, JSON.stringify(o)], { stdio: ['ignore', 'pipe', 'inherit'] });
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
