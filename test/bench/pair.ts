/**
 * A two-process system under benchmark (qlog's enclave and parent agents, a copy, Fluent Bit): one
 * process sends over a unix socket, the other writes a file; measured for wall time, CPU and peak RSS.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileSize, listening, procStats, spawnAgent, stop, untilSize } from './agents.js';

/** The qlog pair of the benches: the parent (vsock on a unix socket -> rotated-file out.log) and the enclave (tail -> vsock-forward). */
export const parentYaml = (sock: string, ws: string, state: string) => `service:
  log_level: warn
  state_dir: ${state}
pipeline:
  inputs:
    - name: vsock
      listen: unix://${sock}
  outputs:
    - name: rotated-file
      match: '*'
      workspace: ${ws}
      file: out.log
      rotate_size: 4GB
      rotate_num: 2
`;
export const enclaveYaml = (sock: string, path: string, state: string) => `service:
  log_level: warn
  state_dir: ${state}
pipeline:
  inputs:
    - name: tail
      tag: bench
      path: ${path}
      read_from_head: true
  outputs:
    - name: vsock-forward
      match: '*'
      connect: unix://${sock}
`;

/** One run of a two-process system: wall time until the output holds the input, CPU and peak RSS of each. */
export interface Sample {
  ms: number;
  same: boolean;
  inOrder: boolean;
  got: number;
  /** [sender or enclave, receiver or parent]; zeros for a process gone before it was read (the copies). */
  cpu: [number, number];
  hwm: [number, number];
}

export interface System {
  /** Starts the receiving process; the run waits for `sock` to exist before it starts the sender. */
  receiver(run: string, sock: string, out: string): ChildProcess;
  sender(run: string, sock: string): ChildProcess;
  /** The output file, relative to the run's directory. */
  out: string;
  /** The copies exit by themselves once done; the agents must stay up. */
  exits: boolean;
}

let runNo = 0;
/**
 * Runs `sys` once in a fresh directory under `dir`: the receiver, then (once it listens) the sender;
 * the wall time ends when the output holds `expect.bytes`; `expect.compare` then checks it.
 * The sender's RSS is read again `afterMs` after the end.
 */
export async function measure(
  dir: string,
  sys: System,
  expect: { bytes: number; compare: (out: string) => { same: boolean; inOrder: boolean } },
  afterMs = 0,
): Promise<Sample & { afterRss: number }> {
  const run = join(dir, `run-${++runNo}`);
  mkdirSync(run);
  const sock = join(run, 'link.sock');
  const out = join(run, sys.out);
  const recv = sys.receiver(run, sock, out);
  await listening(sock);
  const t0 = performance.now();
  const send = sys.sender(run, sock);
  const ms = await untilSize(out, expect.bytes, t0, [recv, send], sys.exits);
  const s = procStats(send.pid!);
  const r = procStats(recv.pid!);
  // V8's memory reducer starts 8 s after activity stops: this sleep is the measurement.
  await new Promise((r) => setTimeout(r, afterMs));
  const afterRss = procStats(send.pid!).rss;
  await stop(send);
  await stop(recv);
  const { same, inOrder } = expect.compare(out);
  const sample = { ms, same, inOrder, got: fileSize(out), cpu: [s.cpu, r.cpu] as [number, number], hwm: [s.hwm, r.hwm] as [number, number], afterRss };
  rmSync(run, { recursive: true, force: true });
  return sample;
}

/** qlog's two agents on `path` (a file or glob), read from the head. */
export function qlogSystem(path: string): System {
  return {
    out: 'ws/out.log',
    exits: false,
    receiver: (run, sock) => spawnAgent(run, 'parent', parentYaml(sock, join(run, 'ws'), join(run, 'pstate'))),
    sender: (run, sock) => spawnAgent(run, 'enclave', enclaveYaml(sock, path, join(run, 'estate'))),
  };
}
