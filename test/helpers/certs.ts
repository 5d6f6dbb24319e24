/**
 * Certificates for TLS tests, made with the openssl CLI in a temp dir (EC P-256: fast).
 *
 *   const c = makeCerts(dir);           // CA, other CA, server (localhost, 127.0.0.1), client, rogue, expired
 *   c.server.crt, c.server.key, c.ca    // absolute paths of PEM files
 *   issue(c, 'server-2', { cn: 'parent-2', san: 'IP:127.0.0.1' })  // another one, signed by the CA
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface Pair {
  crt: string;
  key: string;
}

export interface TestCerts {
  dir: string;
  /** The CA every side trusts (CN=Test CA), and its key. */
  ca: string;
  caKey: string;
  /** A CA nobody trusts (CN=Other CA). */
  otherCa: string;
  otherCaKey: string;
  /** CN=parent,O=Acme for localhost and 127.0.0.1, signed by the CA. */
  server: Pair;
  /** CN=enclave-1,O=Acme, signed by the CA. */
  client: Pair;
  /** CN=enclave-1,O=Acme signed by the other CA. */
  rogue: Pair;
  /** CN=enclave-1,O=Acme signed by the CA, expired yesterday. */
  expired: Pair;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** True when the openssl CLI is on PATH (.ci/run installs it). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function selfSigned(dir: string, name: string, cn: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '3650',
      '-subj',
      `/CN=${cn}`,
    ],
    dir,
  );
}

export interface IssueOptions {
  cn: string;
  /** subjectAltName, e.g. `DNS:localhost,IP:127.0.0.1`. */
  san: string;
  /** Validity in days; -1 gives a certificate that has already expired. */
  days?: number;
  /** Signed by the other CA instead of the CA. */
  other?: boolean;
  /** Reuse this key file (a renewed certificate for the same key). */
  key?: string;
}

/** Issue `<name>.crt` / `<name>.key` in c.dir. */
export function issue(c: Pick<TestCerts, 'dir' | 'ca' | 'caKey' | 'otherCa' | 'otherCaKey'>, name: string, o: IssueOptions): Pair {
  const key = o.key ?? `${name}.key`;
  const ext = join(c.dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=${o.san}\n`);
  const req = o.key ? ['req', '-new', '-key', key] : ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key];
  openssl([...req, '-out', `${name}.csr`, '-subj', `/CN=${o.cn}/O=Acme`], c.dir);
  const [ca, caKey] = o.other ? [c.otherCa, c.otherCaKey] : [c.ca, c.caKey];
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      ca,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      String(o.days ?? 365),
      '-extfile',
      ext,
    ],
    c.dir,
  );
  return { crt: join(c.dir, `${name}.crt`), key: resolve(c.dir, key) };
}

export function makeCerts(dir: string): TestCerts {
  selfSigned(dir, 'ca', 'Test CA');
  selfSigned(dir, 'other-ca', 'Other CA');
  const base = { dir, ca: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), otherCa: join(dir, 'other-ca.crt'), otherCaKey: join(dir, 'other-ca.key') };
  const client = issue(base, 'client', { cn: 'enclave-1', san: 'DNS:enclave-1' });
  return {
    ...base,
    server: issue(base, 'server', { cn: 'parent', san: 'DNS:localhost,IP:127.0.0.1' }),
    client,
    rogue: issue(base, 'rogue', { cn: 'enclave-1', san: 'DNS:enclave-1', other: true }),
    expired: issue(base, 'expired', { cn: 'enclave-1', san: 'DNS:enclave-1', days: -1, key: client.key }),
  };
}
