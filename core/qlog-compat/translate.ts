/**
 * qlog config -> native pipeline YAML, for one role:
 *  - monitor (enclave): each file item -> tail input tagged with the item's name, each resource
 *    item -> resource input; one vsock-forward output that listens (qlog: the enclave listens).
 *  - receive-file (parent): one vsock input that connects to the enclave's CID; per item a
 *    rotated-file output matching the item's name, writing <workspace>/<outputfile>.
 * `qlog migrate` prints this text and `qlog monitor` / `qlog receive-file` load it: one translation.
 */
import { isAbsolute, resolve } from 'node:path';
import { Document, type Node } from 'yaml';
import { VERSION } from '../version.js';
import { VSOCK_CID_ANY, vsockUri } from '../transport/constants.js';
import type { QlogConfig, QlogItem } from './schema.js';

export type Role = 'monitor' | 'receive-file';

export interface TranslateOptions {
  role: Role;
  /** monitor: CID to listen on (default any); receive-file: the enclave's CID (a string is put verbatim, e.g. an env reference). */
  cid?: number | string;
  /** receive-file -w: replaces the config's workspace. */
  workspace?: string;
  /** --transport URI: replaces the vsock address (extension). */
  transport?: string;
  /** --state-dir: default <workspace>/.qlog-state/<role>. */
  stateDir?: string;
  /** --http-listen: metrics endpoint (extension). */
  httpListen?: string;
  /** Relative paths resolve against this directory, as qlog did (its working directory). */
  cwd: string;
  /** Name of the qlog config, for the header comment. */
  source: string;
}

const DEFAULT_INTERVAL_MS = 15_000;

/** The native config has ${ENV} interpolation and templates; qlog values are literal. */
function literal(s: string): string {
  return s.replaceAll('${', () => '$${');
}

function abs(p: string, cwd: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p);
}

function ms(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

/** Instance ids: inputs keep the item name, outputs get a prefix (ids are unique across sections). */
export const outputAlias = (item: QlogItem) => `file.${item.name}`;

export function itemInterval(item: QlogItem): number {
  return (item.monitor_internel ?? item.monitor_interval ?? DEFAULT_INTERVAL_MS) as number;
}

export function vsockAddress(q: QlogConfig, o: Pick<TranslateOptions, 'cid' | 'transport'>): string {
  if (o.transport) return o.transport;
  return vsockUri(o.cid ?? VSOCK_CID_ANY, q.port);
}

export function roleWorkspace(q: QlogConfig, o: Pick<TranslateOptions, 'role' | 'workspace' | 'cwd'>): string {
  return abs(o.role === 'receive-file' && o.workspace ? o.workspace : q.workspace, o.cwd);
}

function service(q: QlogConfig, o: TranslateOptions, workspace: string): Record<string, unknown> {
  const logFile = o.role === 'monitor' ? q.server_logfile : q.client_logfile;
  const s: Record<string, unknown> = {
    log_level: q.log_level === 'off' ? 'silent' : q.log_level,
    log_file: literal(resolve(workspace, logFile)),
    log_rotate_size: q.rotate_size,
    log_rotate_num: q.rotate_num,
    state_dir: literal(abs(o.stateDir ?? resolve(workspace, '.qlog-state', o.role), o.cwd)),
  };
  if (o.httpListen) s.http_listen = o.httpListen;
  return s;
}

function monitorPipeline(q: QlogConfig, o: TranslateOptions): { inputs: unknown[]; outputs: unknown[]; notes: string[] } {
  const inputs: unknown[] = [];
  const notes: string[] = [];
  q.monitor_items.forEach((item, i) => {
    if (item.monitor_type === 'file') {
      inputs.push({ name: 'tail', alias: item.name, tag: item.name, path: literal(abs(item.monitor_path!, o.cwd)), read_from_head: true });
      notes.push(`monitor_items[${i}] "${item.name}": file ${item.monitor_path} -> ${item.outputfile} on the parent`);
    } else {
      inputs.push({ name: 'resource', alias: item.name, tag: item.name, interval: ms(itemInterval(item)) });
      notes.push(`monitor_items[${i}] "${item.name}": resource usage every ${ms(itemInterval(item))} -> ${item.outputfile} on the parent`);
    }
  });
  const outputs = [{ name: 'vsock-forward', alias: 'to-parent', match: '*', listen: vsockAddress(q, o) }];
  return { inputs, outputs, notes };
}

function receivePipeline(q: QlogConfig, o: TranslateOptions, workspace: string): { inputs: unknown[]; outputs: unknown[]; notes: string[] } {
  const inputs = [{ name: 'vsock', alias: 'from-enclave', connect: vsockAddress(q, o) }];
  const notes: string[] = [];
  const outputs = q.monitor_items.map((item, i) => {
    notes.push(`monitor_items[${i}] "${item.name}" -> ${resolve(workspace, item.outputfile)}`);
    return {
      name: 'rotated-file',
      alias: outputAlias(item),
      match: item.name,
      workspace: literal(workspace),
      file: literal(item.outputfile),
      rotate_size: q.rotate_size,
      rotate_num: q.rotate_num,
      format: 'line',
    };
  });
  return { inputs, outputs, notes };
}

/** The native YAML text for one role. */
export function translate(q: QlogConfig, o: TranslateOptions): string {
  const workspace = roleWorkspace(q, o);
  const p = o.role === 'monitor' ? monitorPipeline(q, o) : receivePipeline(q, o, workspace);
  const doc = new Document({ service: service(q, o, workspace), pipeline: { inputs: p.inputs, outputs: p.outputs } });
  const cmd =
    o.role === 'monitor'
      ? `qlog monitor${o.cid !== undefined && o.cid !== VSOCK_CID_ANY ? ` -c ${o.cid}` : ''} ${o.source}`
      : `qlog receive-file ${o.cid ?? '<cid>'} ${o.source}`;
  const threads = o.role === 'monitor' ? q.server_threads : q.client_threads;
  doc.commentBefore = [
    ` ${o.role === 'monitor' ? 'Enclave side' : 'Parent side'}: the native equivalent of \`${cmd}\``,
    ` (generated by qlog ${VERSION} from ${o.source}; run it with: qlog run <this file>)`,
    ...(o.transport ? [` transport: ${o.transport} (--transport, replaces the vsock address)`] : []),
    ' state_dir (not in qlog) keeps offsets and delivery state: keep it across restarts for no loss, no duplicates.',
    ...(threads > 1 ? [` ${o.role === 'monitor' ? 'server' : 'client'}_threads: ${threads} has no equivalent (one event loop does all the I/O).`] : []),
  ].join('\n');
  const at = (path: (string | number)[], text: string) => {
    const n = doc.getIn(path, true) as Node | undefined;
    if (n) n.commentBefore = text;
  };
  const section = o.role === 'monitor' ? 'inputs' : 'outputs';
  for (const [i, note] of p.notes.entries()) at(['pipeline', section, i], ` ${note}`);
  if (o.role === 'monitor') at(['pipeline', 'outputs', 0], ` qlog monitor listens; qlog receive-file on the parent connects to it`);
  else at(['pipeline', 'inputs', 0], ` connects to qlog monitor in the enclave (retries until it is up)`);
  return doc.toString({ lineWidth: 0 });
}
