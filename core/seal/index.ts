/**
 * Sealed logs (issue 17): records leave the enclave as units encrypted to age X25519 recipients,
 * chained per stream and optionally Ed25519-signed; `qlog open` decrypts and verifies them.
 * Format and threat model: docs/sealing.md.
 */
export { AgeError, ageDecrypt, ageEncrypt, generateIdentity, parseIdentity, parseRecipient, type Identity, type Recipient } from './age.js';
export {
  commandAttestation,
  keyFromSignerId,
  loadSealOptions,
  parseIdentityFile,
  parseRecipientsFile,
  parseSigningKey,
  parseVerifyKey,
  rawEd25519,
  readKeyFile,
  signerId,
  type SealOptions,
  type VerifyKey,
} from './keys.js';
export { openUnit, SealError, Sealer, UNIT_MAGIC, type OpenedUnit, type SealErrorKind, type UnitHeader } from './unit.js';
export { EXIT_CODES, exitCodeOf, problemOf, StreamVerifier, type SealProblem, type SealProblemKind } from './verify.js';
export { formatSealedLine, parseSealedLine, SEALED_LINE_PREFIX, type SealedLine } from './line.js';
