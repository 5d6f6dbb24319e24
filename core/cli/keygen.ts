/** `qlog keygen [-o DIR] [--no-signing]`: an age identity and an Ed25519 signing pair for sealed logs. */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { QlogError } from '../errors.js';
import { generateIdentity } from '../seal/age.js';
import { signerId } from '../seal/keys.js';
import { UsageError, type Command } from './command.js';
import { parse } from './args.js';

const usage = `Make the keys for sealed logs (docs/sealing.md):

  identity.txt   age identity (age-keygen's format; mode 0600): opens the logs. Keep it off the
                 enclave and its parent: "qlog open -i identity.txt" or "age -d -i identity.txt"
  recipient.txt  its age1... recipient (public): vsock-forward seal.recipients_file in the enclave
  signing.key    Ed25519 private key, PKCS#8 PEM (mode 0600): seal.signing_key_file in the enclave
  signing.pub    its public key, SPKI PEM: "qlog open --verify-key signing.pub"

Usage: qlog keygen [-o DIR] [--no-signing]

  -o, --out DIR   directory to write (made if missing; default: the current one); never overwrites
  --no-signing    only the age identity and recipient
`;

const command: Command = {
  summary: 'Make an age identity and an Ed25519 signing key pair for sealed logs',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { out: { type: 'string', short: 'o' }, 'no-signing': { type: 'boolean' } }, usage);
    if (positionals.length > 0) throw new UsageError('QLOG_ERR_USAGE/unexpected-arg', { arg: positionals[0]! }, usage);
    const dir = values.out ?? '.';
    const signing = !values['no-signing'];
    const names = ['identity.txt', 'recipient.txt', ...(signing ? ['signing.key', 'signing.pub'] : [])];
    for (const n of names) if (existsSync(join(dir, n))) throw new QlogError('QLOG_ERR_SEAL_KEY/exists', { file: join(dir, n) });
    mkdirSync(dir, { recursive: true });
    const id = generateIdentity();
    const created = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const write = (n: string, text: string, mode: number) => writeFileSync(join(dir, n), text, { mode, flag: 'wx' });
    write('identity.txt', `# created: ${created}\n# public key: ${id.recipient}\n${id.secret}\n`, 0o600);
    write('recipient.txt', `${id.recipient}\n`, 0o644);
    let signer = '';
    if (signing) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      write('signing.key', privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
      write('signing.pub', publicKey.export({ format: 'pem', type: 'spki' }).toString(), 0o644);
      signer = `signer:    ${signerId(publicKey)}\n`;
    }
    const rel = relative(process.cwd(), dir) || '.';
    process.stdout.write(`wrote ${names.map((n) => join(rel, n)).join(', ')}\nrecipient: ${id.recipient}\n${signer}`);
    return 0;
  },
};
export default command;
