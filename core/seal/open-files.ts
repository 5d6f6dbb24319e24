/**
 * Reading files of sealed lines (what rotated-file writes: `qlog-sealed/1 <src> <first>-<last>
 * <base64>`, gzip-compressed generations too), in the order given, through openUnit and one
 * StreamVerifier: `qlog open` and its tests use this.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { QlogError } from '../errors.js';
import { unpackr } from '../forward/codec-packr.js';
import type { Identity } from './age.js';
import type { VerifyKey } from './keys.js';
import { parseSealedLine } from './line.js';
import { openUnit, SealError } from './unit.js';
import { problemOf, StreamVerifier, type SealProblem } from './verify.js';
import { formatError } from '../errors.js';

export interface OpenFilesOptions {
  identities: readonly Identity[];
  /** Required signers; undefined: signatures are checked against the key a unit names. */
  verifyKeys?: readonly VerifyKey[];
  /** Entries now in order (may be called with an empty buffer: skip). Awaited (backpressure). */
  onRecords(entries: Buffer): void | Promise<void>;
  onProblem(p: SealProblem): void;
}

export interface OpenFilesResult {
  problems: SealProblem[];
  units: number;
  records: number;
  resent: number;
  streams: number;
  sessions: number;
  attestations: StreamVerifier['attestations'];
  /** Signer ids of the units opened, and how many were not signed. */
  signers: Set<string>;
  unsigned: number;
}

async function lines(file: string): Promise<AsyncIterable<string>> {
  let gz = false;
  try {
    const fh = await open(file, 'r');
    const head = Buffer.alloc(2);
    await fh.read(head, 0, 2, 0);
    await fh.close();
    gz = head[0] === 0x1f && head[1] === 0x8b;
  } catch (e) {
    throw new QlogError('QLOG_ERR_SEAL_READ', { file, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
  }
  let input: Readable = createReadStream(file);
  if (gz) input = input.pipe(createGunzip());
  const fail = (e: Error) => {
    const code = (e as NodeJS.ErrnoException).code;
    throw new QlogError('QLOG_ERR_SEAL_READ', { file, reason: code?.startsWith('E') ? code : `${e.message} (gzip)` });
  };
  const rl = createInterface({ input, crlfDelay: Infinity });
  return (async function* () {
    try {
      yield* rl;
    } catch (e) {
      fail(e as Error);
    }
  })();
}

export async function openFiles(files: readonly string[], o: OpenFilesOptions): Promise<OpenFilesResult> {
  const v = new StreamVerifier();
  const problems: SealProblem[] = [];
  const sessions = new Set<string>();
  const streams = new Set<string>();
  const signers = new Set<string>();
  let unsigned = 0;
  const report = async (r: { records: Buffer; problems: SealProblem[] }) => {
    for (const p of r.problems) {
      problems.push(p);
      o.onProblem(p);
    }
    if (r.records.length > 0) await o.onRecords(r.records);
  };
  const fail = async (p: SealProblem) => report({ records: Buffer.alloc(0), problems: [p] });
  for (const file of files) {
    let n = 0;
    for await (const text of await lines(file)) {
      n++;
      if (text === '') continue;
      const where = `${file}:${n}`;
      const line = parseSealedLine(text);
      if ('error' in line) {
        await fail({ kind: 'auth', code: 'QLOG_ERR_SEAL_AUTH', message: formatError('QLOG_ERR_SEAL_AUTH/format', { where, reason: line.error }), where });
        continue;
      }
      let u: ReturnType<typeof openUnit>;
      try {
        u = openUnit(line.bytes, o.identities, o.verifyKeys, where);
      } catch (e) {
        if (!(e instanceof SealError)) throw e;
        await fail(problemOf(e, where));
        continue;
      }
      const h = u.header;
      // The parent may namespace the src of a sender (vsock input: `cid<N>/<stream>`).
      const srcOk = line.src === h.stream || line.src.endsWith(`/${h.stream}`);
      if (!srcOk || line.first !== h.first || line.last !== h.last) {
        await fail({
          kind: 'auth',
          code: 'QLOG_ERR_SEAL_AUTH',
          message: formatError('QLOG_ERR_SEAL_AUTH/line-range', {
            where,
            src: line.src,
            range: `${line.first}-${line.last}`,
            stream: h.stream,
            first: h.first,
            last: h.last,
          }),
          where,
        });
        continue;
      }
      if (u.signer === undefined) unsigned++;
      else signers.add(u.signer);
      sessions.add(h.session);
      streams.add(h.stream);
      await report(v.push(u, where));
    }
  }
  await report(v.finish());
  return {
    problems,
    units: v.units,
    records: v.records,
    resent: v.resent,
    streams: streams.size,
    sessions: sessions.size,
    attestations: v.attestations,
    signers,
    unsigned,
  };
}

/**
 * The text of entries: a record with a string `log` and nothing else but `_qlog` prints as that
 * line; any other record prints as one line of JSON (without `_qlog`).
 */
export function entriesText(entries: Buffer): string {
  let out = '';
  unpackr.unpackMultiple(entries, (e: unknown) => {
    const map = Array.isArray(e) ? (e[1] as Record<string, unknown> | undefined) : undefined;
    if (map && typeof map === 'object') {
      const { _qlog, ...rest } = map;
      const keys = Object.keys(rest);
      if (keys.length === 1 && typeof rest.log === 'string') out += `${rest.log}\n`;
      else out += `${JSON.stringify(rest, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))}\n`;
    } else out += `${JSON.stringify(e, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))}\n`;
  });
  return out;
}
