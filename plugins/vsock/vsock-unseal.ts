/**
 * The vsock input's `unseal:` option (docs/sealing.md): on a trusted aggregator, each sealed unit
 * received is decrypted (core/seal openUnit), checked in its sender's streams (StreamVerifier:
 * chain, order, signer, records resent after an enclave restart) and replaced by its records.
 * Every problem is counted by kind (unseal_<kind>) and logged; a unit that cannot be opened or
 * authenticated is dropped, never delivered, and never stops the agent.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Counters, LogRecord } from '../../core/index.js';
import { decodeEvents } from '../../core/forward/index.js';
import { QlogError } from '../../core/errors.js';
import { sealedBytes } from '../../core/sealed-record.js';
import {
  openUnit,
  parseIdentityFile,
  parseVerifyKey,
  problemOf,
  readKeyFile,
  SealError,
  StreamVerifier,
  type Identity,
  type SealProblem,
  type VerifyKey,
} from '../../core/seal/index.js';
import type { UnsealOptions } from './schema.js';

/** Senders whose streams are followed; the least recently heard are forgotten beyond this. */
const MAX_VERIFIERS = 1024;

export interface UnsealKeys {
  identities: Identity[];
  /** undefined: any signer (the unit's own key); else the unit must be signed by one of these. */
  verifyKeys: VerifyKey[] | undefined;
}

export function unsealOn(o: UnsealOptions): boolean {
  return o.identity_file !== '';
}

/** The keys of `unseal:`; throws a QlogError naming the file and the problem. */
export function loadUnsealKeys(o: UnsealOptions, configDir: string): UnsealKeys {
  const at = (f: string) => (isAbsolute(f) ? f : resolve(configDir, f));
  const idFile = at(o.identity_file);
  const identities = parseIdentityFile(readKeyFile(idFile, 'identity file'), idFile);
  const verifyKeys = o.verify_key_files.length
    ? o.verify_key_files.map((f) => {
        const file = at(f);
        return parseVerifyKey(readKeyFile(file, 'verify key'), file);
      })
    : undefined;
  return { identities, verifyKeys };
}

/** Config-time check of `unseal:` (which option, for its file:line:column). */
export function checkUnseal(o: UnsealOptions, configDir: string): { key: string; message: string } | undefined {
  if (!unsealOn(o))
    return o.verify_key_files.length
      ? { key: 'unseal', message: 'expected identity_file with verify_key_files (units are opened with it), found none' }
      : undefined;
  const attempt = (key: string, p: UnsealOptions) => {
    try {
      loadUnsealKeys(p, configDir);
      return undefined;
    } catch (e) {
      if (e instanceof QlogError) return { key, message: e.message };
      throw e;
    }
  };
  const id = attempt('unseal.identity_file', { identity_file: o.identity_file, verify_key_files: [] });
  if (id) return id;
  for (const [i, f] of o.verify_key_files.entries()) {
    const p = attempt(`unseal.verify_key_files.${i}`, { identity_file: o.identity_file, verify_key_files: [f] });
    if (p) return p;
  }
  return undefined;
}

export class Unsealer {
  /** One verifier per sender (it follows each of the sender's streams and sessions). */
  private readonly verifiers = new Map<string, StreamVerifier>();

  constructor(
    private readonly keys: UnsealKeys,
    private readonly o: { counters: Counters; log: Logger; name: string; maxDecompressed: number },
  ) {}

  /**
   * The records with every sealed unit replaced by its records (in order); units that fail are
   * left out. `sender`: whose streams these are (a CID, or the listen address); `label` for logs.
   */
  open(records: LogRecord[], sender: string, label: string): LogRecord[] {
    const out: LogRecord[] = [];
    let plain = 0;
    for (const r of records) {
      const bytes = sealedBytes(r);
      if (bytes === undefined) {
        plain++;
        out.push(r);
        continue;
      }
      const m = r.meta;
      const range = typeof m.seq === 'number' ? `${m.seq_first ?? m.seq}-${m.seq}` : 'end';
      const where = `unit ${String(m.src ?? '?')} ${range} from ${label}`;
      let opened;
      try {
        opened = openUnit(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), this.keys.identities, this.keys.verifyKeys, where);
      } catch (e) {
        this.report([
          e instanceof SealError ? problemOf(e, where) : { kind: 'auth', code: 'QLOG_ERR_SEAL_AUTH', message: `${where}: ${(e as Error).message}`, where },
        ]);
        continue;
      }
      const v = this.verifier(sender);
      const { records: entries, problems } = v.push(opened, where);
      if (problems.length) this.report(problems);
      this.o.counters.add('units_opened');
      if (entries.length === 0) continue;
      try {
        const ev = decodeEvents([r.tag, entries], { maxDecompressed: this.o.maxDecompressed });
        if (ev.invalid) this.o.counters.add('invalid_records', ev.invalid);
        for (const x of ev.records) out.push(x);
      } catch (e) {
        // Authenticated bytes the decoder cannot read: a sealing bug, not an attack; counted.
        this.report([{ kind: 'auth', code: 'QLOG_ERR_SEAL_AUTH', message: `${where}: its records are not Forward entries (${(e as Error).message})`, where }]);
      }
    }
    if (plain) this.o.counters.add('unseal_plain_records', plain);
    return out;
  }

  private verifier(sender: string): StreamVerifier {
    let v = this.verifiers.get(sender);
    if (v) {
      this.verifiers.delete(sender);
      this.verifiers.set(sender, v);
      return v;
    }
    // live: records go out at once (this input acks what it delivered), joining streams mid-way.
    v = new StreamVerifier({ requireSigner: this.keys.verifyKeys !== undefined, live: true });
    this.verifiers.set(sender, v);
    if (this.verifiers.size > MAX_VERIFIERS) this.verifiers.delete(this.verifiers.keys().next().value!);
    return v;
  }

  /** Count each problem by kind; log it (records resent after a restart: informational). */
  private report(problems: readonly SealProblem[]): void {
    for (const p of problems) {
      this.o.counters.add(`unseal_${p.kind.replace(/-/g, '_')}`);
      if (p.kind === 'resend') this.o.log.info(`${this.o.name}: ${p.message}`);
      else this.o.log.warn({ code: p.code, kind: p.kind }, `${this.o.name}: ${p.message}`);
    }
  }
}
