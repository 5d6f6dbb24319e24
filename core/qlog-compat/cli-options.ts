/** Options shared by `qlog monitor`, `qlog receive-file` and `qlog migrate` (qlog's own, plus extensions). */
import { parseAddress, TransportError } from '../transport/address.js';
import { UsageError } from '../cli/command.js';

/** qlog's CID arguments: 0 .. 4294967295 (VMADDR_CID_ANY). */
export function parseCid(text: string, what: string, usage: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 4294967295) {
    throw new UsageError('QLOG_ERR_USAGE/cid', { value: text, option: what }, usage);
  }
  return Number(text);
}

export function checkTransport(uri: string | undefined, usage: string): string | undefined {
  if (uri === undefined) return undefined;
  try {
    return parseAddress(uri).uri;
  } catch (e) {
    if (e instanceof TransportError) throw new UsageError('QLOG_ERR_USAGE/transport', { reason: e.message }, usage);
    throw e;
  }
}

export const EXTENSION_OPTIONS = {
  transport: { type: 'string' },
  'state-dir': { type: 'string' },
  'http-listen': { type: 'string' },
  'print-config': { type: 'boolean' },
} as const;

export function extensionHelp(role: 'monitor' | 'receive-file'): string {
  const verb = role === 'monitor' ? 'Listen on' : 'Connect to';
  return `
Extensions (not in qlog):
      --transport <URI>       ${verb} this address instead of vsock://<CID>:<port>: unix:///path.sock,
                              tcp://host:port, vsock+unix:///path.sock:PORT (try the workflow without vsock)
      --state-dir <DIR>       Offsets and delivery state [default: <workspace>/.qlog-state/${role}]
      --http-listen <ADDR>    Serve metrics on ADDR (e.g. 127.0.0.1:2020): /metrics, /api/v1/metrics
      --print-config          Print the native config this command runs (qlog run <file> runs the same) and exit

The config is qlog's (YAML content, any extension); see docs/migrating-from-qlog.md.
SIGTERM/SIGINT stop after delivering what is in flight; SIGHUP re-reads the config.
`;
}
