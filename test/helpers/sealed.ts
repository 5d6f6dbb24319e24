/**
 * Sealed logs in tests (docs/sealing.md).
 *
 *   const k = sealKeys(dir);                      // age identity file + recipient (core/seal)
 *   const o = openSealedLines(readRotated(ws, 'out.log', true), k.identityFile);
 *   o.lines                                        // the records' lines, in order (sync: for polling)
 *   o.problems                                     // what the verifier found (kinds)
 *   const r = await qlogOpen(k.identityFile, rotatedFilesInOrder(ws, 'out.log'));   // the real CLI
 *   r.code, r.stdout, r.stderr
 *
 * The opener here is core/seal's (parseSealedLine, openUnit, StreamVerifier), not a copy.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEvents } from '../../core/forward/index.js';
import { generateIdentity, openUnit, parseIdentityFile, parseSealedLine, StreamVerifier, type SealProblem } from '../../core/seal/index.js';
import { runCli, type CliResult } from './cli.js';

export interface SealKeys {
  identityFile: string;
  recipient: string;
}

/** A fresh age identity in `dir/<name>.txt` (age-keygen's format). */
export function sealKeys(dir: string, name = 'key'): SealKeys {
  const { secret, recipient } = generateIdentity();
  const identityFile = join(dir, `${name}.txt`);
  writeFileSync(identityFile, `# public key: ${recipient}\n${secret}\n`, { mode: 0o600 });
  return { identityFile, recipient };
}

export interface Opened {
  /** The records' lines (their `log`), in order. */
  lines: string[];
  problems: SealProblem[];
  units: number;
  /** Lines of the input that are not sealed units. */
  plain: string[];
}

/** Open every `qlog-sealed/1` line (in file order) with the identity file. */
export function openSealedLines(lines: readonly string[], identityFile: string): Opened {
  const ids = parseIdentityFile(readFileSync(identityFile, 'utf8'), identityFile);
  const v = new StreamVerifier();
  const out: Opened = { lines: [], problems: [], units: 0, plain: [] };
  const emit = (entries: Buffer) => {
    if (entries.length === 0) return;
    for (const r of decodeEvents(['t', entries], { maxDecompressed: 1 << 30 }).records)
      out.lines.push(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
  };
  for (const [i, l] of lines.entries()) {
    const parsed = parseSealedLine(l);
    if ('error' in parsed) {
      out.plain.push(l);
      continue;
    }
    out.units++;
    const r = v.push(openUnit(parsed.bytes, ids, undefined, `line ${i + 1}`), `line ${i + 1}`);
    emit(r.records);
    out.problems.push(...r.problems);
  }
  const end = v.finish();
  emit(end.records);
  out.problems.push(...end.problems);
  return out;
}

/**
 * An enclave agent's config: tail `log` (from its head, polled every 100 ms) -> vsock-forward to
 * `connect` with `seal` (a YAML flow map, e.g. `{ recipients: [age1...] }`) and `flushMax`.
 */
export function sealingEnclaveYaml(o: { dir: string; log: string; connect: string; seal: string; flushMax?: string }): string {
  return `service: { state_dir: ${o.dir}/estate }
pipeline:
  inputs:
    - { name: tail, path: ${o.log}, read_from_head: true, tag: app, refresh_interval: 100ms }
  outputs:
    - name: vsock-forward
      match: '*'
      connect: ${o.connect}
      reconnect_base: 50ms
      flush_max_size: ${o.flushMax ?? '16KiB'}
      seal: ${o.seal}
`;
}

/** `qlog open -i <identity> <files...>` (the real CLI): stdout is the plaintext, stderr the problems. */
export function qlogOpen(identityFile: string, files: readonly string[], extra: string[] = []): Promise<CliResult> {
  return runCli(['open', '-i', identityFile, ...extra, ...files]);
}
