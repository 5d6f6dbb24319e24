/**
 * Key files for sealing: age identity files (age-keygen's format), recipients (age1... keys,
 * inline or one per line in a file), Ed25519 signing keys (PKCS#8 PEM) and verify keys (SPKI PEM,
 * or the line `ed25519:<base64>` that names a signer in a unit). Every bad key is a QlogError that
 * says which file, which line, what was expected.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { QlogError } from '../errors.js';
import { lazyModule } from '../lazy.js';
import { parseIdentity, parseRecipient, type Identity, type Recipient } from './age.js';

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
/** node:child_process for attestation commands only: loading it cost every agent ~2 ms of startup. */
const childProcess = lazyModule<typeof import('node:child_process')>('node:child_process');

/** An Ed25519 public key a unit's signature is checked with. `id` is `ed25519:<base64>`. */
export interface VerifyKey {
  readonly id: string;
  readonly key: KeyObject;
}

export interface SealOptions {
  /** age X25519 recipients (`age1...`): who can open the units. */
  recipients: string[];
  /** Ed25519 private key: units are signed with it. */
  signingKey?: KeyObject;
  /**
   * Attestation hook: given the signing public key (32 raw bytes), returns the platform's
   * attestation document binding it (Nitro/QingTian: in `public_key` or `user_data`), or
   * undefined. Called once per Sealer; the document travels in unit 0 of every stream.
   */
  attest?: (pub: Buffer) => Buffer | undefined;
}

/** The signer id of an Ed25519 public key: `ed25519:<base64 of the 32 raw bytes>`. */
export function signerId(key: KeyObject): string {
  return `ed25519:${rawEd25519(key).toString('base64')}`;
}

export function rawEd25519(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
}

const signerKeys = new Map<string, KeyObject>();

/** An Ed25519 public key from its signer id (`ed25519:<base64>`), or undefined. Remembers a few. */
export function keyFromSignerId(id: string): KeyObject | undefined {
  let key = signerKeys.get(id);
  if (key === undefined) {
    key = importSignerId(id);
    if (key === undefined) return undefined;
    if (signerKeys.size >= 64) signerKeys.delete(signerKeys.keys().next().value!);
    signerKeys.set(id, key);
  }
  return key;
}

function importSignerId(id: string): KeyObject | undefined {
  const m = /^ed25519:([A-Za-z0-9+/]{43}=)$/.exec(id);
  if (!m) return undefined;
  const raw = Buffer.from(m[1]!, 'base64');
  if (raw.length !== 32) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** Lines that are not blank or `#` comments, with their 1-based numbers. */
function keyLines(text: string): { line: number; text: string }[] {
  return text
    .split('\n')
    .map((t, i) => ({ line: i + 1, text: t.trim() }))
    .filter((l) => l.text !== '' && !l.text.startsWith('#'));
}

/** The identities of an age identity file (age-keygen's format). */
export function parseIdentityFile(text: string, file: string): Identity[] {
  const out: Identity[] = [];
  for (const l of keyLines(text)) {
    const id = parseIdentity(l.text);
    if ('error' in id) {
      const shown = l.text.startsWith('AGE-SECRET-KEY-') ? 'the line' : `"${l.text.slice(0, 20)}${l.text.length > 20 ? '...' : ''}"`;
      throw new QlogError('QLOG_ERR_SEAL_KEY/identity', { where: `${file}:${l.line}`, reason: `${shown} ${id.error}` });
    }
    out.push(id);
  }
  if (out.length === 0) throw new QlogError('QLOG_ERR_SEAL_KEY/no-identity', { file });
  return out;
}

/** Recipients given inline (`where` names the option) or as lines of a file. */
export function parseRecipients(list: readonly { text: string; where: string }[]): Recipient[] {
  return list.map(({ text, where }) => {
    const r = parseRecipient(text);
    if ('error' in r)
      throw new QlogError('QLOG_ERR_SEAL_KEY/recipient', { where, found: text.length > 70 ? `${text.slice(0, 67)}...` : text, reason: r.error });
    return r;
  });
}

export function parseRecipientsFile(text: string, file: string): Recipient[] {
  return parseRecipients(keyLines(text).map((l) => ({ text: l.text, where: `${file}:${l.line}` })));
}

/** An Ed25519 private key from PKCS#8 PEM. */
export function parseSigningKey(text: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (e) {
    throw new QlogError('QLOG_ERR_SEAL_KEY/signing', { file, reason: `not a PEM private key (${(e as Error).message})` });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new QlogError('QLOG_ERR_SEAL_KEY/signing', { file, reason: `it is a ${key.asymmetricKeyType} key, not Ed25519` });
  return key;
}

/** An Ed25519 public key from SPKI PEM, or the line `ed25519:<base64>`. */
export function parseVerifyKey(text: string, file: string): VerifyKey {
  const t = text.trim();
  let key: KeyObject | undefined;
  if (t.startsWith('ed25519:')) {
    key = keyFromSignerId(t);
    if (!key) throw new QlogError('QLOG_ERR_SEAL_KEY/verify', { file, reason: '"ed25519:" is not followed by the base64 of 32 bytes' });
  } else {
    try {
      key = createPublicKey({ key: t, format: 'pem' });
    } catch (e) {
      throw new QlogError('QLOG_ERR_SEAL_KEY/verify', { file, reason: `not a PEM public key (${(e as Error).message})` });
    }
    if (key.asymmetricKeyType !== 'ed25519')
      throw new QlogError('QLOG_ERR_SEAL_KEY/verify', { file, reason: `it is a ${key.asymmetricKeyType} key, not Ed25519` });
  }
  return { id: signerId(key), key };
}

export function readKeyFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new QlogError('QLOG_ERR_SEAL_KEY', { what, file, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
  }
}

/**
 * Attestation hook that runs a command: it gets the signing public key as 64 hex digits in the
 * environment variable QLOG_SEAL_PUBLIC_KEY (and as 32 raw bytes on stdin) and prints the
 * attestation document (raw bytes, e.g. Nitro's COSE_Sign1 CBOR) on stdout.
 */
export function commandAttestation(command: readonly string[]): (pub: Buffer) => Buffer | undefined {
  return (pub) => {
    const r = childProcess().spawnSync(command[0]!, command.slice(1), {
      input: pub,
      env: { ...process.env, QLOG_SEAL_PUBLIC_KEY: pub.toString('hex') },
      maxBuffer: 1 << 20,
      timeout: 30_000,
    });
    // A command that does not read stdin may exit before the key is written to it (EPIPE): fine.
    const err = r.error as NodeJS.ErrnoException | undefined;
    if ((err && err.code !== 'EPIPE') || r.status !== 0) {
      const why = r.stderr?.toString().trim() || err?.message || (r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`);
      throw new QlogError('QLOG_ERR_SEAL_KEY/attestation', { command: JSON.stringify(command.join(' ')), reason: why });
    }
    return r.stdout.length > 0 ? r.stdout : undefined;
  };
}

/**
 * The vsock-forward `seal:` option as SealOptions: inline `recipients` and/or `recipients_file`,
 * optional `signing_key_file` and `attestation_command`. Relative files start at `baseDir`.
 */
export function loadSealOptions(
  o: { recipients?: string[]; recipients_file?: string; signing_key_file?: string; attestation_command?: string[] },
  baseDir: string,
): SealOptions {
  const at = (f: string) => (isAbsolute(f) ? f : resolve(baseDir, f));
  const recipients = parseRecipients((o.recipients ?? []).map((text, i) => ({ text, where: `seal.recipients[${i}]` })));
  if (o.recipients_file !== undefined) {
    const file = at(o.recipients_file);
    recipients.push(...parseRecipientsFile(readKeyFile(file, 'recipients file'), file));
  }
  if (recipients.length === 0) {
    throw new QlogError('QLOG_ERR_SEAL_KEY/no-recipients', { file: o.recipients_file === undefined ? 'none given' : `${o.recipients_file} has none` });
  }
  const opts: SealOptions = { recipients: recipients.map((r) => r.text) };
  if (o.signing_key_file !== undefined) {
    const file = at(o.signing_key_file);
    opts.signingKey = parseSigningKey(readKeyFile(file, 'signing key'), file);
  }
  if (o.attestation_command !== undefined && o.attestation_command.length > 0) opts.attest = commandAttestation(o.attestation_command);
  return opts;
}
