/**
 * StreamVerifier: checks opened units, in the order they were read, for completeness and order.
 * Each (session, stream) is a chain: units numbered from 0, each naming the digest of the one
 * before. Across sessions of one stream (an agent restart), records join by position: a session's
 * first unit starts where the previous session's last emitted record ended (`start`).
 *
 * Units that arrive ahead of their turn wait (up to WINDOW units or WINDOW_BYTES) so that swapped
 * units are printed in chain order; a unit that never arrives is a gap.
 */
import { formatError, type ErrorCode, type IdsOf, type ParamsOf, codeOf } from '../errors.js';
import { unpackr } from '../forward/codec-packr.js';
import type { OpenedUnit, SealError, UnitHeader } from './unit.js';

export type SealProblemKind = 'auth' | 'signer' | 'gap' | 'reorder' | 'duplicate' | 'truncated-end' | 'resend';

export interface SealProblem {
  kind: SealProblemKind;
  code: ErrorCode;
  message: string;
  where: string;
}

/**
 * `qlog open` exit status per problem kind; with several kinds, the first in this order wins.
 * 0 all complete and in order; 1 runtime failure; 2 usage or key file error.
 */
export const EXIT_CODES: readonly [SealProblemKind, number][] = [
  ['auth', 7],
  ['signer', 8],
  ['gap', 3],
  ['reorder', 4],
  ['duplicate', 5],
  ['truncated-end', 6],
];

export function exitCodeOf(problems: readonly SealProblem[]): number {
  for (const [kind, code] of EXIT_CODES) if (problems.some((p) => p.kind === kind)) return code;
  return 0;
}

function problem<I extends IdsOf<'QLOG_ERR_SEAL'>>(kind: SealProblemKind, id: I, params: ParamsOf<I> & { where: string }): SealProblem {
  return { kind, code: codeOf(id), message: formatError(id, ...([params] as never as [])), where: params.where };
}

/**
 * Whether an attestation document names the signer's public key: its 32 raw bytes (Nitro and
 * QingTian put them in the `public_key` or `user_data` byte string of the CBOR document) or their
 * hex. Only that: the document's signature, certificate chain and measurements are the platform
 * verifier's to check (docs/sealing.md).
 */
export function attestationBinds(doc: Buffer, signer: string): boolean {
  const raw = Buffer.from(signer.replace(/^ed25519:/, ''), 'base64');
  return raw.length === 32 && (doc.includes(raw) || doc.includes(raw.toString('hex')));
}

/** The problem a SealError from openUnit stands for. */
export function problemOf(e: SealError, where: string): SealProblem {
  const kind: SealProblemKind = e.kind === 'unknown-signer' || e.kind === 'unsigned' || e.kind === 'bad-signature' ? 'signer' : 'auth';
  return { kind, code: e.code, message: e.message, where };
}

const WINDOW = 64;
/** Units remembered per chain for duplicate detection (batch; live). */
const SEEN = 1 << 20;
const LIVE_SEEN = 1024;
/** Chains kept in live mode before ended ones are forgotten. */
const LIVE_CHAINS = 4096;
const WINDOW_BYTES = 64 * 1024 * 1024;

interface Waiting {
  u: OpenedUnit;
  where: string;
}

interface Chain {
  key: string;
  session: string;
  stream: string;
  /** The unit expected next. */
  next: number;
  /** Digest of unit next-1 (undefined when it is missing). */
  prev: string | undefined;
  pending: Map<number, Waiting>;
  pendingBytes: number;
  /** Digest and place of every unit read (for duplicates). */
  seen: Map<number, { digest: string; where: string }>;
  ended: boolean;
  lastWhere: string;
  lastUnit: number;
  signer: string | undefined;
}

interface StreamState {
  /** seq of the last record emitted. */
  emitted: number | undefined;
  /** After a restart: records from resendFrom up to this seq were emitted by an earlier session (resends). */
  resendUpTo: number | undefined;
  /** The earliest seq emitted when the session started: a record below it was never emitted, so it is no resend. */
  resendFrom: number;
  /** seq of the earliest record emitted. */
  low: number | undefined;
  chain: Chain;
}

/** An entry's `_qlog.seq`, or undefined. */
function entrySeq(e: unknown): number | undefined {
  if (!Array.isArray(e)) return undefined;
  const meta = (e[1] as { _qlog?: { seq?: unknown } } | undefined)?._qlog;
  return typeof meta?.seq === 'number' ? meta.seq : undefined;
}

/**
 * The entries without those whose seq is in [low, upTo] (emitted before: resends); `older`
 * counts the kept ones below `low` (never emitted, yet before what was).
 */
function dropResent(entries: Buffer, low: number, upTo: number): { kept: Buffer; dropped: number; older: number } {
  const keep: Buffer[] = [];
  let dropped = 0;
  let older = 0;
  unpackr.unpackMultiple(entries, (value: unknown, start?: number, end?: number) => {
    const seq = entrySeq(value);
    if (seq !== undefined && seq >= low && seq <= upTo) dropped++;
    else {
      if (seq !== undefined && seq < low) older++;
      keep.push(entries.subarray(start, end));
    }
  });
  return { kept: Buffer.concat(keep), dropped, older };
}

export class StreamVerifier {
  private readonly chains = new Map<string, Chain>();
  private readonly streams = new Map<string, StreamState>();
  private readonly requireSigner: boolean;
  private readonly live: boolean;
  private out: Buffer[] = [];
  private problems: SealProblem[] = [];
  /** Attestation documents seen, per session: the signer they bind and where. */
  readonly attestations = new Map<string, { signer: string | undefined; doc: Buffer; where: string; binds: boolean }>();
  /** Records dropped as resent after a restart. */
  resent = 0;
  units = 0;
  records = 0;

  /**
   * `requireSigner`: an unsigned unit is a signer problem (when openUnit had no verify keys).
   * `live` (an aggregator that acks what it delivers): never hold records back: a unit ahead of
   * its turn is a gap at once and is delivered; a chain first seen at unit n > 0 starts there (the
   * aggregator joined late); memory per chain is bounded.
   */
  constructor(opts: { requireSigner?: boolean; live?: boolean } = {}) {
    this.requireSigner = opts.requireSigner ?? false;
    this.live = opts.live ?? false;
  }

  /** Chains and streams followed (live mode forgets the least recently heard beyond a bound). */
  get followed(): { chains: number; streams: number } {
    return { chains: this.chains.size, streams: this.streams.size };
  }

  /** Feed one opened unit (in file order). Returns the entries now in order, and problems found. */
  push(u: OpenedUnit, where: string): { records: Buffer; problems: SealProblem[] } {
    const h = u.header;
    const key = `${h.session}\u0000${h.stream}`;
    let c = this.chains.get(key);
    if (c && this.live) {
      // Most recently heard last: the chains forgotten first are the ones silent the longest.
      this.chains.delete(key);
      this.chains.set(key, c);
    }
    if (!c) {
      // A new session of a known stream: the old chain's waiting units are as complete as they get.
      const s = this.streams.get(h.stream);
      if (s && s.chain.pending.size > 0) this.resolve(s.chain, Infinity);
      c = {
        key,
        session: h.session,
        stream: h.stream,
        next: 0,
        prev: undefined,
        pending: new Map(),
        pendingBytes: 0,
        seen: new Map(),
        ended: false,
        lastWhere: where,
        lastUnit: -1,
        signer: u.signer,
      };
      this.chains.set(key, c);
      if (this.live && this.chains.size > LIVE_CHAINS) this.forgetOldest();
    }
    const ctx = { where, unit: h.unit, stream: h.stream, session: h.session };
    if (this.requireSigner && u.signer === undefined) {
      this.problems.push(problem('signer', 'QLOG_ERR_SEAL_SIGNER/unsigned', ctx));
      return this.take();
    }
    if (h.attestation !== undefined && !this.attestations.has(h.session)) {
      const doc = Buffer.from(h.attestation, 'base64');
      const binds = u.signer !== undefined && attestationBinds(doc, u.signer);
      this.attestations.set(h.session, { signer: u.signer, doc, where, binds });
      if (this.live && this.attestations.size > LIVE_CHAINS) this.attestations.delete(this.attestations.keys().next().value!);
      if (!binds) this.problems.push(problem('signer', 'QLOG_ERR_SEAL_SIGNER/attestation', { ...ctx, signer: u.signer ?? 'none (unsigned)' }));
    }
    const before = c.seen.get(h.unit);
    if (before) {
      if (before.digest === u.digest) this.problems.push(problem('duplicate', 'QLOG_ERR_SEAL_DUPLICATE', { ...ctx, other: before.where }));
      else this.problems.push(problem('auth', 'QLOG_ERR_SEAL_AUTH/conflict', { ...ctx, other: before.where }));
      return this.take();
    }
    c.seen.set(h.unit, { digest: u.digest, where });
    if (c.seen.size > (this.live ? LIVE_SEEN : SEEN)) c.seen.delete(c.seen.keys().next().value!);
    if (h.unit > c.next && c.lastUnit === -1 && c.pending.size === 0 && (this.live || this.joinsByPosition(c, h))) {
      // The chain's first units are not here, and need not be: the aggregator joined late (live),
      // or after a restart they held only records already stored (the parent dropped them as
      // resends) and this unit starts at or before the last record of the previous session.
      c.next = h.unit;
    }
    if (h.unit > c.next && this.live) {
      this.gap(c, h.unit, where);
      c.next = h.unit;
    }
    if (h.unit > c.next) {
      c.pending.set(h.unit, { u, where });
      c.pendingBytes += u.entries.length;
      if (c.pending.size > WINDOW || c.pendingBytes > WINDOW_BYTES) this.resolve(c, Math.min(...c.pending.keys()));
      return this.take();
    }
    if (h.unit < c.next) {
      // Arrived after its gap was reported: late, out of order.
      this.problems.push(problem('reorder', 'QLOG_ERR_SEAL_REORDER', { ...ctx, after: `${c.lastUnit} (too late: reported missing before)` }));
      this.accept(c, u, where, false);
      return this.take();
    }
    if (c.pending.size > 0) {
      const first = [...c.pending.values()].reduce((a, b) => (a.u.header.unit < b.u.header.unit ? a : b));
      this.problems.push(problem('reorder', 'QLOG_ERR_SEAL_REORDER', { ...ctx, after: `${first.u.header.unit} (at ${first.where})` }));
    }
    this.accept(c, u, where, true);
    this.drain(c);
    return this.take();
  }

  /** Problems only visible at the end: waiting units (gaps) and streams without a closing unit. */
  finish(): { records: Buffer; problems: SealProblem[] } {
    for (const c of this.chains.values()) if (c.pending.size > 0) this.resolve(c, Infinity);
    for (const c of this.chains.values()) {
      const s = this.streams.get(c.stream);
      // A later session of the stream continued it (restart): checked by position there.
      if (c.ended || (s && s.chain !== c)) continue;
      this.problems.push(
        problem('truncated-end', 'QLOG_ERR_SEAL_TRUNCATED', {
          where: c.lastWhere,
          stream: c.stream,
          session: c.session,
          unit: c.lastUnit,
          seq: s?.emitted ?? 'none',
        }),
      );
    }
    return this.take();
  }

  private take(): { records: Buffer; problems: SealProblem[] } {
    const records = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    const problems = this.problems;
    this.out = [];
    this.problems = [];
    return { records, problems };
  }

  /** A unit of a later session that starts where (or before) the stream's last record ended. */
  private joinsByPosition(c: Chain, h: UnitHeader): boolean {
    const s = this.streams.get(h.stream);
    return s !== undefined && s.chain !== c && s.emitted !== undefined && h.start !== null && h.start <= s.emitted;
  }

  /** Units c.next .. upTo-1 are missing. */
  private gap(c: Chain, upTo: number, where: string): void {
    const missing = upTo - 1 === c.next ? `unit ${c.next}` : `units ${c.next}-${upTo - 1}`;
    const before = c.next === 0 ? 'its start' : `unit ${c.next - 1}`;
    this.problems.push(problem('gap', 'QLOG_ERR_SEAL_GAP', { where, missing, stream: c.stream, session: c.session, before, after: upTo }));
    c.prev = undefined;
  }

  /**
   * Live mode: forget the chains heard from least recently (ended or not: a stream's last chain
   * stays until then, and an enclave that crashed never ends its chains), with their stream's
   * state. A forgotten chain that speaks again joins late, like one first seen mid-way.
   */
  private forgetOldest(): void {
    for (const [key, c] of this.chains) {
      if (this.chains.size <= (LIVE_CHAINS * 3) / 4) break;
      this.chains.delete(key);
      if (this.streams.get(c.stream)?.chain === c) this.streams.delete(c.stream);
    }
  }

  /** Give up waiting for the units before `upTo` (all of them with Infinity): report the gaps, go on. */
  private resolve(c: Chain, upTo: number): void {
    while (c.pending.size > 0) {
      const lowest = Math.min(...c.pending.keys());
      if (lowest > upTo) break;
      const w = c.pending.get(lowest)!;
      if (!(c.lastUnit === -1 && this.joinsByPosition(c, w.u.header))) this.gap(c, lowest, w.where);
      c.next = lowest;
      c.prev = undefined;
      this.drain(c);
    }
  }

  private drain(c: Chain): void {
    for (let w = c.pending.get(c.next); w; w = c.pending.get(c.next)) {
      c.pending.delete(c.next);
      c.pendingBytes -= w.u.entries.length;
      this.accept(c, w.u, w.where, true);
    }
  }

  private accept(c: Chain, u: OpenedUnit, where: string, inOrder: boolean): void {
    const h = u.header;
    const ctx = { where, unit: h.unit, stream: h.stream, session: h.session };
    if (inOrder && h.unit > 0 && c.prev !== undefined && h.prev !== c.prev) {
      this.problems.push(problem('auth', 'QLOG_ERR_SEAL_AUTH/chain', { ...ctx, found: h.prev.slice(0, 16), prev: h.unit - 1, expected: c.prev.slice(0, 16) }));
    }
    if (u.signer !== c.signer) {
      this.problems.push(problem('signer', 'QLOG_ERR_SEAL_SIGNER/changed', { ...ctx, signer: u.signer ?? 'nobody', before: c.signer ?? 'nobody' }));
    }
    let s = this.streams.get(h.stream);
    if (!s) {
      s = { emitted: undefined, resendUpTo: undefined, resendFrom: 0, low: undefined, chain: c };
      this.streams.set(h.stream, s);
    }
    let entries = u.entries;
    if (s.chain !== c) {
      // The first unit of a later session (an agent restart): join by position.
      if (h.start !== null && s.emitted !== undefined && h.count > 0 && h.start > s.emitted) {
        this.problems.push(problem('gap', 'QLOG_ERR_SEAL_GAP/records', { where, stream: h.stream, session: h.session, from: s.emitted, to: h.start }));
      }
      s.chain = c;
      s.resendUpTo = s.emitted;
      s.resendFrom = s.low ?? 0;
    }
    if (s.resendUpTo !== undefined && h.count > 0 && h.first <= s.resendUpTo) {
      // Only records from the earliest emitted on can be resends: a parent that puts a later
      // session before an earlier one must not make the earlier one's records vanish as resent.
      const d = dropResent(entries, s.resendFrom, s.resendUpTo);
      if (d.dropped > 0) {
        this.resent += d.dropped;
        this.problems.push(problem('resend', 'QLOG_ERR_SEAL_RESENT', { where, count: d.dropped, stream: h.stream, seq: s.resendUpTo, session: h.session }));
      }
      if (d.older > 0) {
        this.problems.push(
          problem('reorder', 'QLOG_ERR_SEAL_REORDER/session', { where, count: d.older, stream: h.stream, session: h.session, seq: s.resendFrom }),
        );
      }
      entries = d.kept;
    }
    if (h.count > 0 && (s.emitted === undefined || h.last > s.emitted)) s.emitted = h.last;
    if (h.count > 0 && (s.low === undefined || h.first < s.low)) s.low = h.first;
    if (h.end) c.ended = true;
    if (inOrder) {
      c.next = h.unit + 1;
      c.prev = u.digest;
    }
    c.lastWhere = where;
    c.lastUnit = Math.max(c.lastUnit, h.unit);
    this.units++;
    this.records += h.count;
    if (entries.length > 0) this.out.push(entries);
  }
}
