/**
 * A sealed unit: one group of records of one stream, encrypted to the recipients in age's
 * format. The plaintext inside the age file is
 *
 *   "qlog-seal/2 " <header, one line of JSON> "\n" <entries: header.size bytes> [<signature: 64 bytes>]
 *
 * (version 2; version 1, "qlog-seal/1 ", is still opened: the same without `meta`). The entries
 * leave out of each record's `_qlog` the fields the header's `meta` names (entries.ts).
 *
 * The header names the unit's place: stream (the records' src), unit (0-based per session and
 * stream), session (the agent's run), prev (SHA-256 of the previous unit's header line and
 * entries, hex; '' for unit 0), and the records it holds (start, first, last, count), with
 * `signer` when signed and `attestation` in unit 0 when the platform attested the signing key.
 * The unit digest is SHA-256 over the header line (with its "\n") and the entries; the signature
 * is Ed25519 over "qlog-seal/1 signature\n" followed by the 32 digest bytes. See docs/sealing.md.
 */
import { createHash, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { QlogError, type IdsOf, type ParamsOf } from '../errors.js';
import { AgeError, ageDecrypt, ageEncryptPieces, ageHeader, HeaderCache, type AgeHeader, type Identity, type Recipient } from './age.js';
import { expandEntries, isMetaValue } from './entries.js';
import { keyFromSignerId, parseRecipients, rawEd25519, signerId, type SealOptions, type VerifyKey } from './keys.js';

export const UNIT_MAGIC = 'qlog-seal/2 ';
/** What units of version 1 start with (no `meta`: whole entries); still opened. */
const UNIT_MAGIC_V1 = 'qlog-seal/1 ';
/** The unit version a magic names (they have the same length). */
const VERSIONS: ReadonlyMap<string, 1 | 2> = new Map([
  [UNIT_MAGIC_V1, 1],
  [UNIT_MAGIC, 2],
]);
const SIG_CONTEXT = Buffer.from('qlog-seal/1 signature\n');
const SIG_BYTES = 64;
/**
 * Units sealed with one file key (one age header) before a fresh one is made. Each unit is still a
 * whole age file with its own random 128-bit payload nonce, so its own payload key; sharing the
 * header saves the X25519 key generation and agreement per recipient that dominate small units.
 */
export const REKEY_UNITS = 256;
/** Longest header line read (an attestation document fits many times). */
const MAX_HEADER = 256 * 1024;

/** The header of a unit, as it is inside the ciphertext. */
export interface UnitHeader {
  /** 2 (1: a unit of an earlier qlog, without `meta`). */
  v: 1 | 2;
  session: string;
  stream: string;
  unit: number;
  /** SHA-256 (hex) of the previous unit's digest input; '' for unit 0. */
  prev: string;
  /** Source position where the first record's line began (the previous record's seq), or null. */
  start: number | null;
  first: number;
  last: number;
  count: number;
  /** Sealing time, nanoseconds since the epoch, decimal. */
  time: string;
  tag: string;
  /** Bytes of entries. */
  size: number;
  /**
   * `_qlog` fields every record of the unit has, left out of the entries (version 2): the opener
   * puts them back, first in each record's `_qlog`. A tailed file's `{path, src}`.
   */
  meta?: Record<string, string | number | boolean>;
  /** A closing unit (no records): the stream ended cleanly in this session. */
  end?: true;
  signer?: string;
  /** base64 of the attestation document binding the signer key (unit 0 only). */
  attestation?: string;
}

export interface OpenedUnit {
  header: UnitHeader;
  /** PackedForward entries: `[time, {log, _qlog: {path, src, seq}}]` each (`meta` put back). */
  entries: Buffer;
  /** The signer id when the signature verified (against a --verify-key, or the key it names). */
  signer?: string;
  /** Hex SHA-256 of the header line and entries: what the next unit's `prev` must be. */
  digest: string;
}

export type SealErrorKind = 'format' | 'no-identity' | 'auth' | 'unknown-signer' | 'unsigned' | 'bad-signature';

/** A unit that cannot be opened or trusted; `kind` says why. */
export class SealError<I extends IdsOf<'QLOG_ERR_SEAL'> = IdsOf<'QLOG_ERR_SEAL'>> extends QlogError<I> {
  constructor(
    readonly kind: SealErrorKind,
    id: I,
    params: ParamsOf<I>,
  ) {
    super(id, ...([params] as never as []));
    this.name = 'SealError';
  }
}

interface Chain {
  unit: number;
  prev: string;
  last: number;
  tag: string;
}

/** Seals groups of records into units, one chain per stream, for one agent session. */
export class Sealer {
  readonly session: string;
  private readonly recipients: Recipient[];
  private readonly signingKey: KeyObject | undefined;
  private readonly signer: string | undefined;
  /** base64 of the attestation document (in unit 0 of each chain), when configured. */
  readonly attestation: string | undefined;
  private readonly chains = new Map<string, Chain>();
  private header: AgeHeader | undefined;
  private headerUses = 0;

  constructor(opts: SealOptions, session?: string) {
    this.session = session ?? randomBytes(16).toString('hex');
    this.recipients = parseRecipients(opts.recipients.map((text, i) => ({ text, where: `recipients[${i}]` })));
    if (this.recipients.length === 0) throw new QlogError('QLOG_ERR_SEAL_KEY/no-recipients', { file: 'none given' });
    this.signingKey = opts.signingKey;
    if (opts.signingKey) {
      this.signer = signerId(opts.signingKey);
      this.attestation = opts.attest?.(rawEd25519(opts.signingKey))?.toString('base64');
    }
  }

  /** Seal one group's entries. Returns the age file bytes. Advances the (session, stream) chain. */
  seal(u: UnitInput): Buffer {
    return Buffer.concat(this.unit(u, false));
  }

  /** seal()'s bytes in pieces (for a caller that copies them on, into a frame: no joined copy). */
  sealPieces(u: UnitInput): Buffer[] {
    return this.unit(u, false);
  }

  /** Closing units for every stream seen this session (call at graceful stop). */
  close(tag: string): { stream: string; bytes: Buffer }[] {
    return [...this.chains.entries()].map(([stream, c]) => ({
      stream,
      bytes: Buffer.concat(this.unit({ stream, start: c.last, first: c.last, last: c.last, count: 0, tag: tag || c.tag, entries: Buffer.alloc(0) }, true)),
    }));
  }

  /** Streams sealed so far this session. */
  get streams(): number {
    return this.chains.size;
  }

  private unit(u: UnitInput, end: boolean): Buffer[] {
    let c = this.chains.get(u.stream);
    if (!c) {
      c = { unit: 0, prev: '', last: u.last, tag: u.tag };
      this.chains.set(u.stream, c);
    }
    const h: UnitHeader = {
      v: 2,
      session: this.session,
      stream: u.stream,
      unit: c.unit,
      prev: c.prev,
      start: u.start,
      first: u.first,
      last: u.last,
      count: u.count,
      time: String(u.time ?? process.hrtime.bigint() - HR_OFFSET),
      tag: u.tag,
      size: u.entries.length,
    };
    if (u.meta) h.meta = u.meta;
    if (end) h.end = true;
    if (this.signer) h.signer = this.signer;
    if (c.unit === 0 && this.attestation) h.attestation = this.attestation;
    const line = Buffer.from(`${UNIT_MAGIC}${JSON.stringify(h)}\n`);
    // One SHA-256 pass over the plaintext: the chain's digest, and what the signature signs.
    const digest = createHash('sha256').update(line).update(u.entries).digest();
    const parts = [line, u.entries];
    if (this.signingKey) parts.push(sign(null, Buffer.concat([SIG_CONTEXT, digest]), this.signingKey));
    if (this.header === undefined || this.headerUses >= REKEY_UNITS) {
      this.header = ageHeader(this.recipients);
      this.headerUses = 0;
    }
    this.headerUses++;
    const bytes = ageEncryptPieces(parts, this.header);
    c.unit++;
    c.prev = digest.toString('hex');
    c.last = u.last;
    c.tag = u.tag;
    return bytes;
  }
}

/** One group of records to seal: its stream, positions, tag and entries. */
export interface UnitInput {
  stream: string;
  start: number | null;
  first: number;
  last: number;
  count: number;
  tag: string;
  /** PackedForward entries; with `meta`, each record's `_qlog` leaves those fields out. */
  entries: Buffer;
  /** `_qlog` fields every record has (left out of `entries`). */
  meta?: Record<string, string | number | boolean>;
  time?: bigint;
}

/** hrtime is monotonic; this offset makes it wall-clock nanoseconds (fixed at start). */
const HR_OFFSET = process.hrtime.bigint() - BigInt(Date.now()) * 1_000_000n;

/** Per identity list: the file keys of the age headers opened lately. */
const headerCaches = new WeakMap<readonly Identity[], HeaderCache>();

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** The header's fields checked, or the first that is wrong. */
function checkHeader(h: Record<string, unknown>, version: 1 | 2): string | undefined {
  if (h.v !== version) return `unit version ${JSON.stringify(h.v)} in a unit that starts "${UNIT_MAGIC.slice(0, -2)}${version}" (this qlog reads 1 and 2)`;
  for (const k of ['session', 'stream', 'prev', 'time', 'tag'] as const) if (typeof h[k] !== 'string') return `header field "${k}" is not a string`;
  for (const k of ['unit', 'first', 'last', 'count', 'size'] as const) if (!isInt(h[k])) return `header field "${k}" is not a non-negative integer`;
  if (h.start !== null && !isInt(h.start)) return 'header field "start" is neither null nor a non-negative integer';
  if (h.end !== undefined && h.end !== true) return 'header field "end" is not true';
  if (h.signer !== undefined && typeof h.signer !== 'string') return 'header field "signer" is not a string';
  if (h.attestation !== undefined && typeof h.attestation !== 'string') return 'header field "attestation" is not a string';
  if (h.meta !== undefined) {
    if (version < 2) return 'header field "meta" in a version 1 unit';
    if (typeof h.meta !== 'object' || h.meta === null || Array.isArray(h.meta)) return 'header field "meta" is not an object';
    for (const [k, v] of Object.entries(h.meta)) if (!isMetaValue(v)) return `header field "meta" has "${k}", neither a string, a number nor a boolean`;
  }
  if ((h.unit === 0) !== (h.prev === '')) return 'header field "prev" must be empty for unit 0 only';
  return undefined;
}

/**
 * Decrypt and check one unit. `verifyKeys`: when given (even empty), the unit must be signed by
 * one of them; when undefined, a signed unit's signature is checked against the key it names
 * (integrity only: anyone can name their own key). Throws SealError.
 */
export function openUnit(bytes: Buffer, identities: readonly Identity[], verifyKeys: readonly VerifyKey[] | undefined, where = 'unit'): OpenedUnit {
  let plain: Buffer;
  let cache = headerCaches.get(identities);
  if (!cache) {
    cache = new HeaderCache();
    headerCaches.set(identities, cache);
  }
  try {
    plain = ageDecrypt(bytes, identities, cache);
  } catch (e) {
    if (!(e instanceof AgeError)) throw e;
    if (e.kind === 'format') throw new SealError('format', 'QLOG_ERR_SEAL_AUTH/format', { where, reason: e.message });
    if (e.kind === 'no-identity') throw new SealError('no-identity', 'QLOG_ERR_SEAL_AUTH/no-identity', { where, reason: e.message });
    throw new SealError('auth', 'QLOG_ERR_SEAL_AUTH', { where, reason: e.message });
  }
  const bad = (reason: string): never => {
    throw new SealError('format', 'QLOG_ERR_SEAL_AUTH/format', { where, reason });
  };
  const version = VERSIONS.get(plain.toString('latin1', 0, UNIT_MAGIC.length));
  if (!version) bad(`the plaintext does not start with "${UNIT_MAGIC.trim()}" (or "${UNIT_MAGIC_V1.trim()}")`);
  const nl = plain.indexOf(0x0a, UNIT_MAGIC.length);
  if (nl < 0 || nl > MAX_HEADER) bad('the unit header line has no end');
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(plain.toString('utf8', UNIT_MAGIC.length, nl)) as Record<string, unknown>;
  } catch (e) {
    return bad(`the unit header is not JSON (${(e as Error).message})`);
  }
  if (typeof h !== 'object' || h === null || Array.isArray(h)) bad('the unit header is not a JSON object');
  const why = checkHeader(h, version!);
  if (why) bad(why);
  const header = h as unknown as UnitHeader;
  const body = nl + 1;
  const sigLen = header.signer === undefined ? 0 : SIG_BYTES;
  if (plain.length !== body + header.size + sigLen) bad(`the unit holds ${plain.length - body} bytes after its header, expected ${header.size} + ${sigLen}`);
  let entries = plain.subarray(body, body + header.size);
  const digest = createHash('sha256')
    .update(plain.subarray(0, body + header.size))
    .digest();
  const ctx = { where, unit: header.unit, stream: header.stream, session: header.session };
  let signer: string | undefined;
  if (header.signer === undefined) {
    if (verifyKeys !== undefined) throw new SealError('unsigned', 'QLOG_ERR_SEAL_SIGNER/unsigned', ctx);
  } else {
    const key = verifyKeys === undefined ? keyFromSignerId(header.signer) : verifyKeys.find((k) => k.id === header.signer)?.key;
    if (!key) {
      if (verifyKeys === undefined) bad(`header field "signer" is not "ed25519:<base64 of 32 bytes>"`);
      const known = verifyKeys!.map((k) => k.id).join(', ') || 'none';
      throw new SealError('unknown-signer', 'QLOG_ERR_SEAL_SIGNER', { ...ctx, signer: header.signer, known });
    }
    const sig = plain.subarray(body + header.size);
    if (!verify(null, Buffer.concat([SIG_CONTEXT, digest]), key!, sig)) {
      throw new SealError('bad-signature', 'QLOG_ERR_SEAL_SIGNER/bad', { ...ctx, signer: header.signer });
    }
    signer = header.signer;
  }
  // Authenticated (and signed, when it is) as sealed: now the records as they were.
  if (header.meta) {
    try {
      entries = expandEntries(entries, header.meta, header.count);
    } catch (e) {
      bad(`its entries do not take "meta": ${(e as Error).message}`);
    }
  }
  return { header, entries, signer, digest: digest.toString('hex') };
}
