/**
 * One table of user-visible error codes (fastify style). Messages use {placeholders}.
 * test/core/errors.test.ts ties every code to docs/errors.md.
 */
export const ERRORS = {
  QLOG_ERR_CONFIG_READ: 'cannot read config file {file}: {reason}',
  QLOG_ERR_CONFIG_YAML: 'YAML syntax error: {reason}',
  QLOG_ERR_CONFIG_TYPE: 'expected {expected}, found {found}',
  QLOG_ERR_CONFIG_UNKNOWN_KEY: 'unknown key "{key}"{hint}; allowed keys: {allowed}',
  QLOG_ERR_CONFIG_REQUIRED: 'missing required option "{key}"',
  QLOG_ERR_CONFIG_UNIT: 'expected {expected}, found {found}',
  QLOG_ERR_CONFIG_ENUM: 'expected one of {allowed}, found {found}',
  QLOG_ERR_CONFIG_VALUE: '{reason}',
  QLOG_ERR_CONFIG_ENV: 'environment variable {name} is not set (use ${{name}:-default} to give a default)',
  QLOG_ERR_CONFIG_UNKNOWN_PLUGIN: 'unknown {kind} plugin "{name}"{hint}; available: {available}',
  QLOG_ERR_CONFIG_DUPLICATE_ID: 'two plugin instances are named "{id}"; give one a different alias',
  QLOG_ERR_PLUGIN_NOT_FOUND: 'plugin package "{spec}" not found (looked in {where}); install it with: npm install {pkg}',
  QLOG_ERR_PLUGIN_LOAD: 'cannot load plugin "{spec}": {reason}',
  QLOG_ERR_PLUGIN_BRAND: '"{spec}" does not export a qlog plugin (its default export must be made with definePlugin from "qlog")',
  QLOG_ERR_PLUGIN_VERSION: 'plugin "{name}" supports qlog {range}, but this is qlog {version}; upgrade qlog or install a plugin version made for it',
  QLOG_ERR_PLUGIN_KIND: 'plugin "{name}" has kind "{kind}"; expected input, filter or output',
  QLOG_ERR_PLUGIN_NAME_CLASH: 'plugin name "{name}" from {spec} clashes with {other}; rename one of them',
  QLOG_ERR_PLUGIN_SCHEMA: 'plugin "{name}" has an invalid options schema: {reason}',
  QLOG_ERR_PLUGIN_SETUP: 'plugin instance {id} failed during {phase}: {reason}',
  QLOG_ERR_PLUGIN_TIMEOUT: 'plugin instance {id} did not finish {phase} within {ms} ms',
  QLOG_ERR_USAGE: '{reason}',
  // Link (transports, vsock addon, Forward protocol) and templates: thrown with specific messages
  // of this shape by core/transport, core/forward and core/template.ts.
  QLOG_ERR_TRANSPORT_ADDRESS: '{uri}: expected {expected}, found {found} (e.g. {example})',
  QLOG_ERR_TRANSPORT_REFUSED: 'connection to {uri} refused: nothing listens there',
  QLOG_ERR_TRANSPORT_TIMEOUT: 'connecting to {uri} took longer than {ms} ms',
  QLOG_ERR_TRANSPORT_DENIED: 'no permission to use {uri}',
  QLOG_ERR_TRANSPORT_RESET: '{uri} reset the connection while connecting',
  QLOG_ERR_TRANSPORT_RESOLVE: 'cannot resolve host {host}',
  QLOG_ERR_TRANSPORT_CONNECT: 'cannot connect to {uri}: {reason}',
  QLOG_ERR_TRANSPORT_IN_USE: 'cannot listen on {uri}: {reason}',
  QLOG_ERR_TRANSPORT_LISTEN: 'cannot listen on {uri}: {reason}',
  QLOG_ERR_TRANSPORT_HYBRID: 'hybrid vsock {uri}: expected "OK <port>" after CONNECT, found {found}',
  QLOG_ERR_TRANSPORT_VSOCK_UNAVAILABLE: 'vsock is not available here: {reason}',
  QLOG_ERR_VSOCK_UNAVAILABLE: 'no vsock: {reason}',
  QLOG_ERR_VSOCK_ADDR_IN_USE: 'vsock port {port} is already bound',
  QLOG_ERR_VSOCK_REFUSED: 'vsock connection to {cid}:{port} refused',
  QLOG_ERR_VSOCK_RESET: 'vsock connection reset: {reason}',
  QLOG_ERR_VSOCK_TIMEOUT: 'vsock connect to {cid}:{port} timed out after {ms} ms',
  QLOG_ERR_VSOCK_IO: 'vsock {syscall} failed: {reason}',
  QLOG_ERR_FORWARD_FRAME_TOO_LARGE: 'frame of {size} bytes exceeds max_frame_size ({max})',
  QLOG_ERR_FORWARD_BAD_MSGPACK: 'bytes that are not msgpack from {peer}',
  QLOG_ERR_FORWARD_TOO_DEEP: 'msgpack nested deeper than 64 levels from {peer}',
  QLOG_ERR_FORWARD_PROTOCOL: '{peer} sent valid msgpack that is not a Forward message: {reason}',
  QLOG_ERR_TEMPLATE_SYNTAX: '{reason} at column {column} of template {template}',
} as const;

export type ErrorCode = keyof typeof ERRORS;

export function formatError(code: ErrorCode, params: Record<string, string | number> = {}): string {
  return ERRORS[code].replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

export class QlogError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, params: Record<string, string | number> = {}, options?: { cause?: unknown }) {
    super(formatError(code, params), options);
    this.code = code;
    this.name = 'QlogError';
  }
}

/** A config problem located in a file. `toString()` gives `file:line:col: path: message`. */
export class ConfigIssue {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly path: string,
  ) {}
  toString(): string {
    const where = this.line > 0 ? `${this.file}:${this.line}:${this.col}` : this.file;
    return `${where}: ${this.path ? this.path + ': ' : ''}${this.message}`;
  }
}

/** Thrown when a config file is invalid; carries every issue found. Exit status 2. */
export class ConfigError extends Error {
  readonly code = 'QLOG_ERR_CONFIG';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(String).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Edit distance, for "did you mean" hints. */
export function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** ` (did you mean "x"?)` for the closest candidate, or '' if nothing is close. */
export function didYouMean(found: string, candidates: readonly string[]): string {
  let best = '';
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(found.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best && bestD <= Math.max(2, Math.floor(found.length / 3)) ? ` (did you mean "${best}"?)` : '';
}
