/**
 * The age v1 file format (https://age-encryption.org/v1, C2SP age spec) with X25519 recipients,
 * built on Node's native crypto (X25519, HKDF-SHA-256, ChaCha20-Poly1305, HMAC-SHA-256): the
 * output is what `age -e -r age1...` writes (binary, not armored) and `age -d` opens, and this
 * module opens what `age` writes to an X25519 recipient. Only the X25519 recipient type is read;
 * other stanzas (scrypt, ssh, plugins) are skipped like any stanza no identity matches.
 *
 *   age-encryption.org/v1
 *   -> X25519 <ephemeral share, base64>
 *   <wrapped file key, base64, lines of 64 columns, the last one shorter>
 *   --- <HMAC-SHA-256 of the header up to "---", base64>
 *   <16-byte nonce><payload: 64 KiB ChaCha20-Poly1305 STREAM chunks, last one flagged>
 *
 * base64 is the standard alphabet without padding; decoding is strict (canonical only).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { bech32Decode, bech32Encode } from './bech32.js';

export const AGE_INTRO = 'age-encryption.org/v1';
const X25519_INFO = 'age-encryption.org/v1/X25519';
const CHUNK = 64 * 1024;
const TAG = 16;
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const ZERO_NONCE = Buffer.alloc(12);

/** An age X25519 recipient (`age1...`): who a unit is encrypted to. */
export interface Recipient {
  readonly text: string;
  readonly pub: Buffer;
  readonly key: KeyObject;
}

/** An age X25519 identity (`AGE-SECRET-KEY-1...`): opens what was encrypted to its recipient. */
export interface Identity {
  readonly key: KeyObject;
  readonly pub: Buffer;
  /** Its recipient, `age1...`. */
  readonly recipient: string;
}

/** Why an age file could not be opened. `kind` says which check failed. */
export class AgeError extends Error {
  constructor(
    readonly kind: 'format' | 'no-identity' | 'header-mac' | 'payload',
    message: string,
  ) {
    super(message);
    this.name = 'AgeError';
  }
}

export function x25519Public(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
}

function x25519Private(raw: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
}

function rawPublic(k: KeyObject): Buffer {
  return k.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length);
}

/** `age1...` -> Recipient, or the reason it is not one. */
export function parseRecipient(text: string): Recipient | { error: string } {
  const d = bech32Decode(text);
  if ('error' in d) return { error: `is not an age recipient: it ${d.error}` };
  if (text !== text.toLowerCase()) return { error: 'is not an age recipient: it must be lowercase' };
  if (d.hrp !== 'age') return { error: `is not an age X25519 recipient (expected "age1...", found the prefix "${d.hrp}1")` };
  if (d.data.length !== 32) return { error: `is not an age X25519 recipient (expected 32 key bytes, found ${d.data.length})` };
  return { text, pub: d.data, key: x25519Public(d.data) };
}

/** `AGE-SECRET-KEY-1...` -> Identity, or the reason it is not one. */
export function parseIdentity(text: string): Identity | { error: string } {
  const d = bech32Decode(text);
  if ('error' in d) return { error: `is not an age identity: it ${d.error}` };
  if (d.hrp !== 'age-secret-key-')
    return { error: `is not an age X25519 identity (expected "AGE-SECRET-KEY-1...", found the prefix "${d.hrp.toUpperCase()}1")` };
  if (d.data.length !== 32) return { error: `is not an age X25519 identity (expected 32 key bytes, found ${d.data.length})` };
  const key = x25519Private(d.data);
  const pub = rawPublic(createPublicKey(key));
  return { key, pub, recipient: bech32Encode('age', pub) };
}

/** A new identity, as age-keygen makes one: the secret `AGE-SECRET-KEY-1...` and its `age1...`. */
export function generateIdentity(): { secret: string; recipient: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const raw = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_X25519.length);
  return { secret: bech32Encode('age-secret-key-', raw).toUpperCase(), recipient: bech32Encode('age', rawPublic(publicKey)) };
}

function b64(b: Buffer): string {
  return b.toString('base64').replace(/=+$/, '');
}

/** Strict unpadded base64 (canonical), or undefined. */
function unb64(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) return undefined;
  const b = Buffer.from(s, 'base64');
  return b64(b) === s ? b : undefined;
}

function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

/** HMAC-SHA-256 of the header up to "---", keyed with HKDF(file key, "header"). */
function headerMac(fileKey: Buffer, header: Buffer): Buffer {
  return createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header'))
    .update(header)
    .digest();
}

function aeadSeal(key: Buffer, nonce: Buffer, plain: Buffer): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

function aeadOpen(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length < TAG) return undefined;
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  const out = d.update(sealed.subarray(0, sealed.length - TAG));
  try {
    d.final();
  } catch {
    return undefined;
  }
  return out;
}

/** The X25519 stanza wrapping `fileKey` to `r` (fresh ephemeral key each time). */
function x25519Stanza(fileKey: Buffer, r: Recipient): string {
  const eph = generateKeyPairSync('x25519');
  const share = rawPublic(eph.publicKey);
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: r.key });
  const wrapKey = hkdf(shared, Buffer.concat([share, r.pub]), X25519_INFO);
  // 32 bytes of body are 43 base64 characters: one line, shorter than 64 columns.
  return `-> X25519 ${b64(share)}\n${b64(aeadSeal(wrapKey, ZERO_NONCE, fileKey))}\n`;
}

/** CSPRNG bytes drawn 4 KiB at a time: one 16-byte payload nonce per file costs a copy, not a call. */
let randomPool = Buffer.alloc(0);
let randomPos = 0;
function randomNonce(): Buffer {
  if (randomPos + 16 > randomPool.length) {
    randomPool = randomBytes(4096);
    randomPos = 0;
  }
  randomPos += 16;
  return Buffer.from(randomPool.subarray(randomPos - 16, randomPos));
}

function streamNonce(counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(counter, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}

/** A file key and the age header that wraps it to the recipients (stanzas and MAC). */
export interface AgeHeader {
  readonly fileKey: Buffer;
  readonly bytes: Buffer;
}

/** A fresh file key wrapped to every recipient (a new ephemeral X25519 key per stanza). */
export function ageHeader(recipients: readonly Recipient[]): AgeHeader {
  if (recipients.length === 0) throw new Error('ageHeader: no recipients');
  const fileKey = randomBytes(16);
  let header = `${AGE_INTRO}\n`;
  for (const r of recipients) header += x25519Stanza(fileKey, r);
  header += '---';
  header += ` ${b64(headerMac(fileKey, Buffer.from(header, 'latin1')))}\n`;
  return { fileKey, bytes: Buffer.from(header, 'latin1') };
}

/**
 * Encrypt the concatenation of `parts` to every recipient: the bytes of an age file. The parts
 * are read in place (no joined copy of the plaintext). `header`: reuse a file key and its header
 * (see Sealer: every file still gets its own random payload nonce, hence its own payload key);
 * by default a fresh one, as `age -e` makes.
 */
export function ageEncrypt(parts: readonly Buffer[], recipients: readonly Recipient[], header: AgeHeader = ageHeader(recipients)): Buffer {
  return Buffer.concat(ageEncryptPieces(parts, header));
}

/**
 * ageEncrypt's bytes as pieces, in order (header, nonce, then each STREAM chunk's ciphertext and
 * tag as the cipher returned them): a caller that copies them on anyway (into a frame) saves a
 * copy of the whole file. Each 64 KiB chunk needs its own cipher object (its own nonce); the
 * parts are fed to it in place.
 */
export function ageEncryptPieces(parts: readonly Buffer[], header: AgeHeader): Buffer[] {
  let size = 0;
  for (const p of parts) size += p.length;
  const chunks = Math.max(1, Math.ceil(size / CHUNK));
  const nonce = randomNonce();
  const key = hkdf(header.fileKey, nonce, 'payload');
  const out: Buffer[] = [header.bytes, nonce];
  let part = 0;
  let off = 0;
  for (let i = 0; i < chunks; i++) {
    const c = createCipheriv('chacha20-poly1305', key, streamNonce(i, i === chunks - 1), { authTagLength: TAG });
    let want = Math.min(CHUNK, size - i * CHUNK);
    while (want > 0) {
      const p = parts[part]!;
      const take = Math.min(want, p.length - off);
      out.push(c.update(take === p.length ? p : p.subarray(off, off + take)));
      want -= take;
      off += take;
      if (off === p.length) {
        part++;
        off = 0;
      }
    }
    const f = c.final(); // nothing, for ChaCha20-Poly1305: the tag is all that follows
    if (f.length) out.push(f);
    out.push(c.getAuthTag());
  }
  return out;
}

interface Stanza {
  args: string[];
  body: Buffer;
}

function parseHeader(file: Buffer): { stanzas: Stanza[]; macInput: Buffer; mac: Buffer; payload: number } {
  const bad = (why: string): never => {
    throw new AgeError('format', `not an age file: ${why}`);
  };
  let pos = 0;
  const line = (): string => {
    const nl = file.indexOf(0x0a, pos);
    if (nl < 0) bad('the header ends before its "---" line');
    const s = file.toString('latin1', pos, nl);
    pos = nl + 1;
    return s;
  };
  if (line() !== AGE_INTRO) bad(`it does not start with "${AGE_INTRO}"`);
  const stanzas: Stanza[] = [];
  for (;;) {
    const start = pos;
    const l = line();
    if (l.startsWith('--- ')) {
      const mac = unb64(l.slice(4));
      if (mac?.length !== 32) bad('the header MAC is not 32 bytes of base64');
      return { stanzas, macInput: file.subarray(0, start + 3), mac: mac!, payload: pos };
    }
    if (!l.startsWith('-> ')) bad(`expected a "-> " stanza or the "---" line, found ${JSON.stringify(l.slice(0, 40))}`);
    const args = l.slice(3).split(' ');
    if (args.some((a) => a === '')) bad('a stanza has an empty argument');
    const body: Buffer[] = [];
    for (;;) {
      const b = line();
      const d = unb64(b);
      if (!d || b.length > 64) bad('a stanza body is not canonical base64 in lines of 64 columns');
      body.push(d!);
      if (b.length < 64) break;
    }
    stanzas.push({ args, body: Buffer.concat(body) });
  }
}

function unwrap(stanzas: Stanza[], identities: readonly Identity[]): Buffer | undefined {
  for (const s of stanzas) {
    if (s.args[0] !== 'X25519') continue;
    if (s.args.length !== 2) throw new AgeError('format', 'not an age file: an X25519 stanza must have exactly one argument');
    const share = unb64(s.args[1]!);
    if (share?.length !== 32) throw new AgeError('format', 'not an age file: an X25519 share is not 32 bytes of base64');
    if (s.body.length !== 32) throw new AgeError('format', 'not an age file: an X25519 stanza body is not 32 bytes');
    for (const id of identities) {
      const shared = diffieHellman({ privateKey: id.key, publicKey: x25519Public(share!) });
      if (shared.every((b) => b === 0)) throw new AgeError('format', 'not an age file: an X25519 share is a low-order point');
      const key = aeadOpen(hkdf(shared, Buffer.concat([share!, id.pub]), X25519_INFO), ZERO_NONCE, s.body);
      if (key?.length === 16) return key;
    }
  }
  return undefined;
}

/**
 * File keys of headers already opened and authenticated (the same header bytes, MAC included,
 * always carry the same file key): units that share a header skip the X25519 work.
 */
export class HeaderCache {
  private readonly map = new Map<string, Buffer>();
  constructor(private readonly max = 16) {}
  get(header: string): Buffer | undefined {
    return this.map.get(header);
  }
  set(header: string, fileKey: Buffer): void {
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(header, fileKey);
  }
}

/**
 * Open an age file with the first identity that unwraps its file key. Throws AgeError:
 * `format` (not an age file), `no-identity` (no stanza opens with these identities: another
 * recipient's file, or an altered stanza), `header-mac` (the header was altered), `payload`
 * (a payload chunk fails authentication: altered, cut, or extended).
 */
export function ageDecrypt(file: Buffer, identities: readonly Identity[], cache?: HeaderCache): Buffer {
  const h = parseHeader(file);
  const headerText = cache ? file.toString('latin1', 0, h.payload) : '';
  let fileKey = cache?.get(headerText);
  if (fileKey === undefined) {
    fileKey = unwrap(h.stanzas, identities);
    if (!fileKey) {
      const types = [...new Set(h.stanzas.map((s) => s.args[0]))].join(', ') || 'none';
      throw new AgeError('no-identity', `no identity opens it (its header has ${h.stanzas.length} stanza(s) of type ${types})`);
    }
    if (!timingSafeEqual(headerMac(fileKey, h.macInput), h.mac)) throw new AgeError('header-mac', 'the header MAC does not match: the header was altered');
    cache?.set(headerText, fileKey);
  }
  if (file.length - h.payload < 16) throw new AgeError('payload', 'the payload nonce is cut off');
  const key = hkdf(fileKey, file.subarray(h.payload, h.payload + 16), 'payload');
  const body = file.subarray(h.payload + 16);
  const out = Buffer.allocUnsafe(Math.max(0, body.length - TAG * Math.ceil(body.length / (CHUNK + TAG))));
  let pos = 0;
  let len = 0;
  for (let i = 0; ; i++) {
    const rest = body.length - pos;
    const last = rest <= CHUNK + TAG;
    const n = Math.min(rest, CHUNK + TAG);
    const plain = aeadOpen(key, streamNonce(i, last), body.subarray(pos, pos + n));
    if (!plain) throw new AgeError('payload', `payload chunk ${i} fails authentication: the payload was altered, cut or extended`);
    if (last && plain.length === 0 && i > 0) throw new AgeError('payload', 'the payload ends with an empty chunk');
    len += plain.copy(out, len);
    pos += n;
    if (last) break;
  }
  return out.subarray(0, len);
}
