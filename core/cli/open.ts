/** `qlog open -i IDENTITY [--verify-key PUB] [--check] FILES...`: decrypt and verify sealed logs. */
import { parseIdentityFile, parseVerifyKey, readKeyFile } from '../seal/keys.js';
import { EXIT_CODES, exitCodeOf } from '../seal/verify.js';
import { entriesText, openFiles } from '../seal/open-files.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QlogError } from '../errors.js';
import { UsageError, type Command } from './command.js';
import { parse } from './args.js';

const codes = EXIT_CODES.map(([k, c]) => `${c} ${k}`).join(', ');

const usage = `Decrypt sealed logs (files of "qlog-sealed/1" lines written by rotated-file) and check that
every unit is there, once, in order, untouched and (with --verify-key) signed by the enclave.
Prints the plaintext lines on stdout, every problem on stderr.

Usage: qlog open -i IDENTITY [-i IDENTITY...] [--verify-key PUB...] [--check] [--attestation-out DIR] FILES...

  -i, --identity FILE    age identity file (age-keygen's format; identity.txt from "qlog keygen")
  --verify-key FILE      Ed25519 public key the units must be signed with (signing.pub, PEM, or a
                         line "ed25519:<base64>"); repeat for several; without it signatures are
                         only checked against the key a unit names
  --check                verify only: print nothing but the problems and a summary
  --attestation-out DIR  write each session's attestation document to DIR/<session>.attestation,
                         for the platform's verifier (signature, certificates, measurements)
  FILES                  files of sealed lines, oldest first (app.log.2 app.log.1 app.log); .gz ok

Exit status: 0 complete and in order; 1 a file cannot be read; 2 usage or key file error;
${codes} (with several kinds of problems, the first in this list).
See docs/sealing.md.
`;

const command: Command = {
  summary: 'Decrypt and verify sealed logs: print the lines, report gaps, reordering and tampering',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        identity: { type: 'string', short: 'i', multiple: true },
        'verify-key': { type: 'string', multiple: true },
        check: { type: 'boolean' },
        'attestation-out': { type: 'string' },
      },
      usage,
    );
    if (!values.identity?.length) throw new UsageError('QLOG_ERR_USAGE/open-identity', {}, usage);
    if (positionals.length === 0) throw new UsageError('QLOG_ERR_USAGE/open-files', {}, usage);
    const identities = values.identity.flatMap((f) => parseIdentityFile(readKeyFile(f, 'identity file'), f));
    const verifyKeys = values['verify-key']?.map((f) => parseVerifyKey(readKeyFile(f, 'verify key'), f));
    const check = values.check ?? false;
    const out = process.stdout;
    const r = await openFiles(positionals, {
      identities,
      verifyKeys,
      onRecords: check
        ? () => {}
        : (entries) => {
            if (!out.write(entriesText(entries))) return new Promise<void>((res) => out.once('drain', res));
          },
      onProblem: (p) => process.stderr.write(`qlog open: ${p.code}: ${p.message}\n`),
    }).catch((e: unknown) => {
      if (e instanceof QlogError && e.code === 'QLOG_ERR_SEAL_READ') return e;
      throw e;
    });
    if (r instanceof QlogError) {
      process.stderr.write(`qlog open: ${r.code}: ${r.message}\n`);
      return 1;
    }
    const outDir = values['attestation-out'];
    if (outDir !== undefined && r.attestations.size > 0) mkdirSync(outDir, { recursive: true });
    for (const [session, a] of r.attestations) {
      let saved = '';
      if (outDir !== undefined) {
        const file = join(outDir, `${session}.attestation`);
        writeFileSync(file, a.doc);
        saved = `, saved as ${file}`;
      }
      process.stderr.write(
        `qlog open: session ${session}: attestation document (${a.doc.length} bytes, at ${a.where}${saved}) ${a.binds ? 'contains' : 'does NOT contain'} the key of signer ${a.signer ?? 'none'}; check its signature and measurements with the platform's verifier (docs/sealing.md, "Attestation")\n`,
      );
    }
    if (verifyKeys === undefined && r.signers.size > 0) {
      process.stderr.write(
        `qlog open: note: units are signed by ${[...r.signers].join(', ')}; without --verify-key that shows they are intact, not who made them\n`,
      );
    }
    if (verifyKeys === undefined && r.unsigned > 0) {
      process.stderr.write(`qlog open: note: ${r.unsigned} units are not signed: anyone with the recipient key could have made them (docs/sealing.md)\n`);
    }
    const code = exitCodeOf(r.problems);
    const errors = r.problems.filter((p) => p.kind !== 'resend').length;
    const resent = r.resent > 0 ? `, ${r.resent} resent after a restart` : '';
    process.stderr.write(
      `qlog open: ${r.units} units, ${r.records - r.resent} records, ${r.streams} streams, ${r.sessions} sessions${resent}: ${errors === 0 ? 'OK' : `${errors} problem${errors > 1 ? 's' : ''} (exit ${code})`}\n`,
    );
    return code;
  },
};
export default command;
