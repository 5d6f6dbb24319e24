/**
 * Reading the files of a `tls` map into what node:tls takes, checked: each file readable, PEM,
 * the key usable and belonging to the certificate. Read at every pipeline start, so a reload
 * (SIGHUP) re-reads them; a reload that finds them unusable keeps the ones read before (and says
 * so) instead of taking the link down.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { TransportError } from './address.js';
import type { TlsOptions } from './tls-options.js';

/** What a tls:// connect or listen needs, files read. */
export interface TlsContext {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly verify: boolean;
  /** connect: SNI and the name checked in the server's certificate ('' = the address host). */
  readonly serverName: string;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** listen: clients must present a certificate signed by `ca` (mutual TLS). */
  readonly requireClientCert: boolean;
  /** Where the trusted CAs come from, for messages: the ca_file path, or "the system CAs". */
  readonly caLabel: string;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function read(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new TransportError('QLOG_ERR_TRANSPORT_TLS_FILE', { key, file, reason }, { cause: e });
  }
}

function readCertificates(key: string, file: string): Buffer {
  const pem = read(key, file);
  const blocks = pem.toString('latin1').match(CERT_BLOCK) ?? [];
  if (!blocks.length) throw new TransportError('QLOG_ERR_TRANSPORT_TLS_FILE/pem', { key, file, what: 'CERTIFICATE' });
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (e) {
      throw new TransportError('QLOG_ERR_TRANSPORT_TLS_FILE', { key, file, reason: `a certificate does not parse (${(e as Error).message})` }, { cause: e });
    }
  }
  return pem;
}

/** Read and check the files; throws a TransportError naming the option and the file. */
export function readTlsFiles(o: TlsOptions, mode: 'connect' | 'listen', baseDir: string): TlsContext {
  const path = (f: string): string => resolve(baseDir, f);
  const ca = o.ca_file ? readCertificates('ca_file', path(o.ca_file)) : undefined;
  const cert = o.crt_file ? readCertificates('crt_file', path(o.crt_file)) : undefined;
  const key = o.key_file ? read('key_file', path(o.key_file)) : undefined;
  if (key) {
    try {
      createPrivateKey(key);
    } catch (e) {
      throw new TransportError('QLOG_ERR_TRANSPORT_TLS_FILE/key', { file: path(o.key_file), reason: (e as Error).message }, { cause: e });
    }
  }
  if (cert && key) {
    try {
      createSecureContext({ cert, key });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH')
        throw new TransportError('QLOG_ERR_TRANSPORT_TLS_FILE/mismatch', { key: path(o.key_file), crt: path(o.crt_file) }, { cause: e });
      throw new TransportError('QLOG_ERR_TRANSPORT_TLS_FILE', { key: 'key_file', file: path(o.key_file), reason: (e as Error).message }, { cause: e });
    }
  }
  return Object.freeze({
    ca,
    cert,
    key,
    verify: o.verify,
    serverName: o.server_name,
    minVersion: o.min_version,
    requireClientCert: mode === 'listen' && !!ca && o.verify,
    caLabel: o.ca_file ? `tls.ca_file ${path(o.ca_file)}` : 'the system CAs',
  });
}

/** The last good read of each file set, for a reload that finds the files unusable. */
const lastGood = new Map<string, TlsContext>();

/**
 * readTlsFiles, remembering the result: if a later read of the same files fails (a reload while
 * the files are being replaced), the earlier result is returned with the error as `stale`. The
 * first read of a file set has nothing to fall back on and throws.
 */
export function loadTlsFiles(o: TlsOptions, mode: 'connect' | 'listen', baseDir: string): { context: TlsContext; stale?: TransportError } {
  const id = JSON.stringify([mode, resolve(baseDir), o]);
  try {
    const context = readTlsFiles(o, mode, baseDir);
    lastGood.set(id, context);
    return { context };
  } catch (e) {
    const before = lastGood.get(id);
    if (before && e instanceof TransportError) return { context: before, stale: e };
    throw e;
  }
}
