/**
 * The vsock input's `unseal:` option (docs/sealing.md): on a trusted aggregator, each sealed unit
 * received is decrypted (core/seal openUnit), checked in its sender's streams (StreamVerifier:
 * chain, order, signer, records resent after an enclave restart) and replaced by its records.
 * Every problem is counted by kind (unseal_<kind>) and logged (the first of a kind per sender in
 * full, then a summary per 30 s); a unit that cannot be opened or authenticated is never
 * delivered and never stops the agent. Such a unit is acked and dropped, except while none of its
 * sender's units opens for a key reason (a wrong identity file or verify key): then its chunk is
 * held back (not acked) until the key is fixed, and the sender is reported failing (error log,
 * unseal_senders_failing, health). Records that are not sealed units are dropped (plain_records).
 */
import { isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Counters, LogRecord } from '../../core/index.js';
import { decodeEvents } from '../../core/forward/index.js';
import { formatError, QlogError } from '../../core/errors.js';
import { Recurring } from '../../core/recurring.js';
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
  type SealErrorKind,
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

/** Kinds a key fix on this side cures (a wrong identity file, a missing verify key): held back. */
const KEY_KINDS: ReadonlySet<SealErrorKind> = new Set(['no-identity', 'unknown-signer', 'unsigned']);
/**
 * A sender's units that no key here opens are held back (not acked) while none of its units
 * opened for this long (or ever, in this run); after one opened, they are forgeries or strays:
 * acked and dropped, so a forged unit delays its own chunk at most until a genuine one opens.
 */
const HOLD_MS = 30_000;
/** Repeated problems of a kind from a sender: one summary line per this period. */
const SUMMARY_MS = 30_000;

/** What unseal knows of one sender (a CID, or the listen address). */
interface Sender {
  label: string;
  /** When a unit of it last opened (0: none in this run). */
  openedAt: number;
  /** Units no key here opens since the last one that opened. */
  keyFailures: Recurring;
  keyKind: 'identity' | 'signer';
  /** Reported failing (counted in unseal_senders_failing). */
  failing: boolean;
  /** Per problem (its counter): the first logged in full, then a summary per SUMMARY_MS. */
  problems: Map<string, Recurring>;
}

export interface Unsealed {
  records: LogRecord[];
  /** Do not ack the chunk (nothing of it is emitted): its units may open once the key is fixed. */
  hold: boolean;
}

export class Unsealer {
  /** One verifier per sender (it follows each of the sender's streams and sessions). */
  private readonly verifiers = new Map<string, StreamVerifier>();
  private readonly senders = new Map<string, Sender>();
  private failing = 0;
  private readonly passPlain: boolean;

  constructor(
    private readonly keys: UnsealKeys,
    private readonly o: {
      counters: Counters;
      log: Logger;
      name: string;
      maxDecompressed: number;
      plainRecords?: 'drop' | 'pass';
      clock?: () => number;
    },
  ) {
    this.passPlain = o.plainRecords === 'pass';
    o.counters.set('unseal_senders_failing', 0);
  }

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }

  /**
   * The records with every sealed unit replaced by its records (in order); units that fail are
   * left out, and so are plain records unless plain_records is pass. `sender`: whose streams these
   * are (a CID, or the listen address); `label` for logs. hold: the chunk must not be acked.
   */
  open(records: LogRecord[], sender: string, label: string): Unsealed {
    const s = this.sender(sender, label);
    const out: LogRecord[] = [];
    let plain = 0;
    let keyFailed = false;
    for (const r of records) {
      const bytes = sealedBytes(r);
      if (bytes === undefined) {
        plain++;
        if (this.passPlain) out.push(r);
        else {
          const m = r.meta;
          this.warn(
            s,
            'unseal_plain_dropped',
            'QLOG_ERR_UNSEAL',
            formatError('QLOG_ERR_UNSEAL/plain', { where: `${this.o.name}: ${label}`, src: String(m.src ?? 'none'), seq: String(m.seq ?? 'none') }),
          );
        }
        continue;
      }
      const m = r.meta;
      const range = typeof m.seq === 'number' ? `${m.seq_first ?? m.seq}-${m.seq}` : 'end';
      const where = `unit ${String(m.src ?? '?')} ${range} from ${label}`;
      let opened;
      try {
        opened = openUnit(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), this.keys.identities, this.keys.verifyKeys, where);
      } catch (e) {
        if (e instanceof SealError && KEY_KINDS.has(e.kind)) {
          keyFailed = true;
          this.keyFailure(s, e.kind);
        }
        this.report(s, [
          e instanceof SealError ? problemOf(e, where) : { kind: 'auth', code: 'QLOG_ERR_SEAL_AUTH', message: `${where}: ${(e as Error).message}`, where },
        ]);
        continue;
      }
      this.opened(s);
      const v = this.verifier(sender);
      const { records: entries, problems } = v.push(opened, where);
      if (problems.length) this.report(s, problems);
      this.o.counters.add('units_opened');
      if (entries.length === 0) continue;
      try {
        const ev = decodeEvents([r.tag, entries], { maxDecompressed: this.o.maxDecompressed });
        if (ev.invalid) this.o.counters.add('invalid_records', ev.invalid);
        for (const x of ev.records) out.push(x);
      } catch (e) {
        // Authenticated bytes the decoder cannot read: a sealing bug, not an attack; counted.
        this.report(s, [
          { kind: 'auth', code: 'QLOG_ERR_SEAL_AUTH', message: `${where}: its records are not Forward entries (${(e as Error).message})`, where },
        ]);
      }
    }
    if (plain) this.o.counters.add(this.passPlain ? 'unseal_plain_records' : 'unseal_plain_dropped', plain);
    // Only while none of the sender's units opens: then nothing of the chunk was opened either.
    if (keyFailed && this.stale(s)) {
      this.o.counters.add('unseal_chunks_held');
      return { records: [], hold: true };
    }
    return { records: out, hold: false };
  }

  private stale(s: Sender): boolean {
    return s.openedAt === 0 || this.now() - s.openedAt >= HOLD_MS;
  }

  /** A unit of `s` opened: it is not failing (any more). */
  private opened(s: Sender): void {
    s.openedAt = this.now();
    const r = s.keyFailures.reset();
    if (!s.failing) return;
    this.setFailing(s, false);
    this.o.log.info(`${this.o.name}: units from ${s.label} open again (after ${r?.count ?? 0} that no key opened, in ${r?.seconds ?? 0} s)`);
  }

  /**
   * A unit of `s` no key here opens. With none opened for HOLD_MS its chunks are held back: say so
   * at once (error, health), since the data waits for someone to fix the key. A forged unit before
   * any genuine one raises it too, until the genuine one opens.
   */
  private keyFailure(s: Sender, kind: SealErrorKind): void {
    s.keyFailures.add();
    s.keyKind = kind === 'no-identity' ? 'identity' : 'signer';
    if (s.failing || !this.stale(s)) return;
    this.setFailing(s, true);
    this.o.counters.add('errors');
    const id = s.keyKind === 'identity' ? 'QLOG_ERR_UNSEAL' : 'QLOG_ERR_UNSEAL/signer';
    const params = { where: `${this.o.name}: units from ${s.label}`, count: s.keyFailures.count, seconds: s.keyFailures.seconds() };
    this.o.log.error({ code: 'QLOG_ERR_UNSEAL' }, formatError(id, params));
  }

  private setFailing(s: Sender, on: boolean): void {
    if (s.failing === on) return;
    s.failing = on;
    this.failing += on ? 1 : -1;
    this.o.counters.set('unseal_senders_failing', this.failing);
  }

  private sender(key: string, label: string): Sender {
    let s = this.senders.get(key);
    if (s) {
      this.senders.delete(key);
      this.senders.set(key, s);
      s.label = label;
      return s;
    }
    s = { label, openedAt: 0, keyFailures: new Recurring(SUMMARY_MS, () => this.now()), keyKind: 'identity', failing: false, problems: new Map() };
    this.senders.set(key, s);
    if (this.senders.size > MAX_VERIFIERS) {
      const [oldest, gone] = this.senders.entries().next().value!;
      this.setFailing(gone, false);
      this.senders.delete(oldest);
    }
    return s;
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
  private report(s: Sender, problems: readonly SealProblem[]): void {
    for (const p of problems) {
      this.o.counters.add(`unseal_${p.kind.replace(/-/g, '_')}`);
      if (p.kind === 'resend') this.o.log.info(`${this.o.name}: ${p.message}`);
      else this.warn(s, `unseal_${p.kind.replace(/-/g, '_')}`, p.code, `${this.o.name}: ${p.message}`);
    }
  }

  /** A warning about `s`, of what `counter` counts: the first in full, then one summary per SUMMARY_MS. */
  private warn(s: Sender, counter: string, code: string, message: string): void {
    let r = s.problems.get(counter);
    if (!r) s.problems.set(counter, (r = new Recurring(SUMMARY_MS, () => this.now())));
    if (r.add(message)) {
      this.o.log.warn({ code, counter }, message);
      return;
    }
    const due = r.due();
    if (due)
      this.o.log.warn(
        { code, counter, count: due.count },
        `${this.o.name}: ${due.count} more like this from ${s.label} in the last ${due.seconds} s (${counter}); the latest: ${message}`,
      );
  }
}
