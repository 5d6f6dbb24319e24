/**
 * AF_VSOCK stream sockets on top of the native addon (native/, see docs/native.md).
 * libuv cannot wrap an AF_VSOCK fd, so the addon owns the fd and a uv_poll on Node's loop;
 * this module turns it into a Duplex with real backpressure. Importing never fails: when the
 * addon is missing, vsockAvailable() says why and every entry point throws
 * QLOG_ERR_VSOCK_UNAVAILABLE.
 */
import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import { Duplex, type DuplexOptions } from 'node:stream';
import { getSystemErrorMap } from 'node:util';
import { loadAddon } from '../native-addon.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, VSOCK_CID_ANY, vsockUri } from './constants.js';
import { QlogError, type CodeOf, type ErrorArgs, type IdsOf, type ParamsOf } from '../errors.js';

export interface VsockAddress {
  cid: number;
  port: number;
}

/** The kernel's name for it (docs/native.md). */
export const VMADDR_CID_ANY = VSOCK_CID_ANY;
export const VMADDR_PORT_ANY = 0xffffffff;

type VsockIds = IdsOf<'QLOG_ERR_VSOCK_'>;
export type VsockErrorCode = CodeOf<VsockIds>;

export class QlogVsockError<I extends VsockIds = VsockIds> extends QlogError<I> {
  /** The system error name behind it (e.g. 'EPIPE'), when there is one. */
  readonly errno?: string;
  readonly syscall?: string;
  constructor(id: I, params: ParamsOf<I>, sys?: { errno?: string; syscall?: string }) {
    super(id, ...([params] as ErrorArgs<I>));
    this.name = 'QlogVsockError';
    if (sys?.errno) this.errno = sys.errno;
    if (sys?.syscall) this.syscall = sys.syscall;
  }
}

// ---- the addon ----------------------------------------------------------------------------

type NativeAddr = { family: 'vsock'; cid: number; port: number } | { family: 'unix'; path: string } | { family: 'other' };
interface NativeFailure {
  errno: number;
  syscall: string;
}

/** The addon's socket object (internal: only this module creates them). */
export interface NativeSocketHandle {
  onpoll?: ((status: number, events: number) => void) | undefined;
  readInto(buf: Buffer, offset: number, length: number): number;
  write(buf: Buffer, offset: number): number;
  writev(bufs: Buffer[], skip: number): number;
  shutdown(): number;
  accept(): NativeSocketHandle | number;
  soError(): number;
  sockName(): NativeAddr | number;
  peerName(): NativeAddr | number;
  poll(mask: number): number;
  setRef(on: boolean): void;
  close(): void;
  fd(): number;
}

interface Binding {
  localCid(): number | NativeFailure;
  socketPair(): [NativeSocketHandle, NativeSocketHandle] | NativeFailure;
  listenVsock(cid: number, port: number, backlog: number): NativeSocketHandle | NativeFailure;
  listenUnix(path: string, backlog: number): NativeSocketHandle | NativeFailure;
  connectVsock(cid: number, port: number, timeoutMs: number): NativeSocketHandle | NativeFailure;
  connectUnix(path: string): NativeSocketHandle | NativeFailure;
}

const READABLE = 1;
const WRITABLE = 2;
const { EAGAIN, EINTR, ENOTCONN } = osConstants.errno;

function binding(): Binding {
  const l = loadAddon();
  if ('error' in l) throw new QlogVsockError('QLOG_ERR_VSOCK_UNAVAILABLE', { reason: l.error });
  return l.binding as Binding;
}

function isFailure(v: unknown): v is NativeFailure {
  return typeof v === 'object' && v !== null && 'errno' in v;
}

// ---- errors -------------------------------------------------------------------------------

const errnoNames = getSystemErrorMap();

/** Map an errno from `syscall` on `what` (e.g. "vsock://3:6000") to a QlogVsockError. */
export function vsockErrorFromErrno(errno: number, syscall: string, what: string): QlogVsockError {
  const [name, desc] = errnoNames.get(-Math.abs(errno)) ?? [`errno ${errno}`, 'unknown error'];
  const sys = { errno: name, syscall };
  switch (name) {
    case 'EADDRINUSE':
      return new QlogVsockError('QLOG_ERR_VSOCK_ADDR_IN_USE', { uri: what }, sys);
    case 'EADDRNOTAVAIL':
      return new QlogVsockError('QLOG_ERR_VSOCK_IO/cid', { uri: what }, sys);
    case 'ECONNREFUSED':
      return new QlogVsockError('QLOG_ERR_VSOCK_REFUSED', { uri: what }, sys);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENODEV':
      if (syscall === 'connect') return new QlogVsockError('QLOG_ERR_VSOCK_REFUSED/unreachable', { uri: what, errno: name }, sys);
      break;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ENOTCONN':
    case 'ESHUTDOWN':
    case 'ECONNABORTED':
      return new QlogVsockError('QLOG_ERR_VSOCK_RESET', { uri: what, errno: name, syscall }, sys);
    case 'ETIMEDOUT':
      return new QlogVsockError('QLOG_ERR_VSOCK_TIMEOUT/errno', { uri: what, errno: name }, sys);
    case 'EAFNOSUPPORT':
    case 'EPROTONOSUPPORT':
    case 'ESOCKTNOSUPPORT':
      return new QlogVsockError('QLOG_ERR_VSOCK_UNAVAILABLE/kernel', { syscall, reason: desc }, sys);
    case 'ENOENT':
    case 'ENXIO':
      if (syscall === 'open') return new QlogVsockError('QLOG_ERR_VSOCK_UNAVAILABLE/no-device', {}, sys);
      break;
    case 'EACCES':
    case 'EPERM':
      if (syscall === 'open') return new QlogVsockError('QLOG_ERR_VSOCK_UNAVAILABLE/device-denied', {}, sys);
      return new QlogVsockError('QLOG_ERR_VSOCK_IO/denied', { syscall, uri: what, errno: name }, sys);
  }
  return new QlogVsockError('QLOG_ERR_VSOCK_IO', { syscall, uri: what, reason: desc, errno: name }, sys);
}

function describe(a: NativeAddr | number | undefined): string {
  if (typeof a !== 'object') return 'socket';
  if (a.family === 'vsock') return vsockUri(a.cid, a.port);
  if (a.family === 'unix') return a.path ? `unix://${a.path}` : 'unix socketpair';
  return 'socket';
}

function toVsockAddress(a: NativeAddr | number): VsockAddress | undefined {
  return typeof a === 'object' && a.family === 'vsock' ? { cid: a.cid, port: a.port } : undefined;
}

function checkAddress(addr: VsockAddress): void {
  for (const k of ['cid', 'port'] as const) {
    const v = addr?.[k];
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new TypeError(`vsock ${k} must be an integer between 0 and 4294967295, found ${String(v)}`);
    }
  }
}

// ---- availability -------------------------------------------------------------------------

let cachedCid: number | undefined;

/** Whether vsock can be used here: the addon is loaded and /dev/vsock answers. */
export function vsockAvailable(): { ok: true } | { ok: false; reason: string } {
  try {
    localCid();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

/** This machine's CID (IOCTL_VM_SOCKETS_GET_LOCAL_CID on /dev/vsock). */
export function localCid(): number {
  if (cachedCid !== undefined) return cachedCid;
  const r = binding().localCid();
  if (isFailure(r)) throw vsockErrorFromErrno(r.errno, r.syscall, '/dev/vsock');
  return (cachedCid = r);
}

// ---- the Duplex ---------------------------------------------------------------------------

const READ_SIZE = 64 * 1024;
const READS_PER_TICK = 16; // at most 1 MiB per poll callback, so one busy peer cannot starve the loop

interface PendingWrite {
  bufs: Buffer[] | null;
  buf: Buffer | null;
  off: number;
  total: number;
  cb: (err?: Error | null) => void;
}

export class VsockSocket extends Duplex {
  /** Peer address (vsock only; undefined on AF_UNIX). */
  readonly remote?: VsockAddress;
  /** Local address (vsock only; undefined on AF_UNIX). */
  readonly local?: VsockAddress;
  #h: NativeSocketHandle | null;
  #what: string;
  #mask = 0;
  #wantRead = false;
  #pending: PendingWrite | null = null;
  #readBuf: Buffer | null = null;

  /** @internal Sockets come from connectVsock, VsockServer or unixSocketPair. */
  constructor(handle: NativeSocketHandle, opts?: DuplexOptions) {
    super({ ...opts, objectMode: false, decodeStrings: true, emitClose: true, autoDestroy: true });
    this.#h = handle;
    const peer = handle.peerName();
    this.#what = describe(peer);
    const remote = toVsockAddress(peer);
    const local = toVsockAddress(handle.sockName());
    if (remote) this.remote = remote;
    if (local) this.local = local;
    handle.onpoll = (status, events) => this.#onPoll(status, events);
  }

  /** Let the process exit while this socket waits for I/O (like net.Socket#unref). */
  unref(): this {
    this.#h?.setRef(false);
    return this;
  }
  ref(): this {
    this.#h?.setRef(true);
    return this;
  }

  #onPoll(status: number, events: number): void {
    if (status < 0) return void this.destroy(vsockErrorFromErrno(-status, 'poll', this.#what));
    if (events & WRITABLE && this.#pending) this.#flush();
    if (events & READABLE && this.#wantRead && this.#h) this.#readLoop();
  }

  #updatePoll(): void {
    const h = this.#h;
    if (!h) return;
    const mask = (this.#wantRead ? READABLE : 0) | (this.#pending ? WRITABLE : 0);
    if (mask === this.#mask) return;
    const r = h.poll(mask);
    if (r < 0) return void this.destroy(vsockErrorFromErrno(-r, 'poll', this.#what));
    this.#mask = mask;
  }

  override _read(): void {
    this.#wantRead = true;
    this.#readLoop();
  }

  #readLoop(): void {
    for (let i = 0; i < READS_PER_TICK; i++) {
      const h = this.#h;
      if (!h) return;
      const buf = (this.#readBuf ??= Buffer.allocUnsafe(READ_SIZE));
      const n = h.readInto(buf, 0, buf.length);
      if (n > 0) {
        let chunk: Buffer;
        if (n >= READ_SIZE / 2) {
          chunk = buf.subarray(0, n); // hand the buffer over: at most 2x its payload
          this.#readBuf = null;
        } else {
          chunk = Buffer.allocUnsafe(n); // small read: copy, keep reusing the big buffer
          buf.copy(chunk, 0, 0, n);
        }
        this.#wantRead = this.push(chunk); // may run 'data' handlers, which may destroy us
        if (!this.#wantRead) break;
      } else if (n === 0) {
        this.#wantRead = false;
        this.push(null);
        break;
      } else if (n === -EAGAIN) {
        break; // wait for the readable event
      } else if (n !== -EINTR) {
        return void this.destroy(vsockErrorFromErrno(-n, 'read', this.#what));
      }
    }
    this.#updatePoll();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#pending = { bufs: null, buf: chunk, off: 0, total: chunk.length, cb };
    this.#flush();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const bufs = chunks.map((c) => c.chunk);
    let total = 0;
    for (const b of bufs) total += b.length;
    this.#pending = { bufs, buf: null, off: 0, total, cb };
    this.#flush();
  }

  /** Write as much as the kernel takes; on EAGAIN wait for writability before calling back. */
  #flush(): void {
    const p = this.#pending;
    const h = this.#h;
    if (!p || !h) return;
    while (p.off < p.total) {
      const n = p.bufs ? h.writev(p.bufs, p.off) : h.write(p.buf!, p.off);
      if (n >= 0) p.off += n;
      else if (n === -EAGAIN) return void this.#updatePoll();
      else if (n !== -EINTR) {
        this.#pending = null;
        this.#updatePoll();
        return p.cb(vsockErrorFromErrno(-n, 'write', this.#what));
      }
    }
    this.#pending = null;
    this.#updatePoll();
    p.cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    const r = this.#h ? this.#h.shutdown() : 0;
    // ENOTCONN: the peer is already gone; nothing left to half-close.
    cb(r < 0 && r !== -ENOTCONN ? vsockErrorFromErrno(-r, 'shutdown', this.#what) : null);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const h = this.#h;
    this.#h = null;
    this.#wantRead = false;
    this.#mask = 0;
    if (h) {
      h.onpoll = undefined;
      h.close(); // stops the poll (uv_close) and closes the fd
    }
    // A write waiting for writability will never finish: release its callback like
    // net.Socket does for a destroyed socket (unsent buffered writes get ERR_STREAM_DESTROYED).
    const p = this.#pending;
    this.#pending = null;
    if (p) process.nextTick(p.cb);
    cb(err);
  }
}

// ---- connect ------------------------------------------------------------------------------

/** Wait until a non-blocking connect finishes (writable + SO_ERROR), or time out. */
function awaitConnect(h: NativeSocketHandle, what: string, timeoutMs: number, opts?: DuplexOptions): Promise<VsockSocket> {
  return new Promise((resolve, reject) => {
    const fail = (err: QlogVsockError): void => {
      clearTimeout(timer);
      h.onpoll = undefined;
      h.close();
      reject(err);
    };
    const timer = setTimeout(() => fail(new QlogVsockError('QLOG_ERR_VSOCK_TIMEOUT', { uri: what, ms: timeoutMs }, { syscall: 'connect' })), timeoutMs);
    h.onpoll = (status) => {
      const errno = status < 0 ? -status : h.soError();
      if (errno) return fail(vsockErrorFromErrno(errno, 'connect', what));
      const peer = h.peerName(); // SO_ERROR 0 but not connected: the peer went away
      if (typeof peer === 'number') return fail(vsockErrorFromErrno(-peer, 'connect', what));
      clearTimeout(timer);
      h.poll(0);
      resolve(new VsockSocket(h, opts));
    };
    const r = h.poll(WRITABLE);
    if (r < 0) fail(vsockErrorFromErrno(-r, 'poll', what));
  });
}

export interface VsockConnectOptions {
  /** Give up after this many milliseconds (default 10 s); also set as the kernel's vsock connect timeout. */
  timeoutMs?: number;
  /** Passed to the Duplex (highWaterMark, allowHalfOpen ...). */
  streamOptions?: DuplexOptions;
}

/** Connect to a vsock listener. Rejects with QlogVsockError (_REFUSED, _TIMEOUT, _UNAVAILABLE ...). */
export async function connectVsock(addr: VsockAddress, opts: VsockConnectOptions = {}): Promise<VsockSocket> {
  checkAddress(addr);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const what = `vsock://${addr.cid}:${addr.port}`;
  const r = binding().connectVsock(addr.cid, addr.port, timeoutMs);
  if (isFailure(r)) throw vsockErrorFromErrno(r.errno, r.syscall, what);
  return awaitConnect(r, what, timeoutMs, opts.streamOptions);
}

/** @internal Test hook: the same connect path over an AF_UNIX socket file. */
export async function connectUnixPath(path: string, opts: VsockConnectOptions = {}): Promise<VsockSocket> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const r = binding().connectUnix(path);
  if (isFailure(r)) throw vsockErrorFromErrno(r.errno, r.syscall, `unix://${path}`);
  return awaitConnect(r, `unix://${path}`, timeoutMs, opts.streamOptions);
}

/** @internal Test hooks for code that cannot be reached without a vsock peer. */
export const _testing = { awaitConnect, binding: (): Binding => binding() };

/** Test hook: a connected pair of VsockSocket over AF_UNIX, through the same native I/O path. */
export function unixSocketPair(opts?: DuplexOptions): [VsockSocket, VsockSocket] {
  const r = binding().socketPair();
  if (isFailure(r)) throw vsockErrorFromErrno(r.errno, r.syscall, 'unix socketpair');
  return [new VsockSocket(r[0], opts), new VsockSocket(r[1], opts)];
}

// ---- server -------------------------------------------------------------------------------

const ACCEPTS_PER_TICK = 64;
const ACCEPT_BACKOFF_MS = 100; // after EMFILE & co: level-triggered poll would spin otherwise

export interface VsockServerOptions {
  backlog?: number;
  /** Passed to every accepted socket's Duplex. */
  streamOptions?: DuplexOptions;
}

/** Listens for vsock connections. Events: 'connection' (sock: VsockSocket), 'error', 'close'. */
export class VsockServer extends EventEmitter {
  #h: NativeSocketHandle | null = null;
  #addr: NativeAddr | number = 0;
  #refed = true;
  #backoff: NodeJS.Timeout | undefined;
  readonly #opts: VsockServerOptions;

  constructor(opts: VsockServerOptions = {}) {
    super();
    this.#opts = opts;
  }

  /** Bind and listen; port VMADDR_PORT_ANY picks a free port (see address()). */
  async listen(addr: VsockAddress): Promise<void> {
    checkAddress(addr);
    this.#assertIdle();
    const what = vsockUri(addr.cid, addr.port);
    const r = binding().listenVsock(addr.cid, addr.port, this.#opts.backlog ?? 128);
    if (isFailure(r)) throw vsockErrorFromErrno(r.errno, r.syscall, what);
    this.#start(r);
  }

  /** @internal Test hook: the same accept path on an AF_UNIX socket file. */
  async listenUnixPath(path: string): Promise<void> {
    this.#assertIdle();
    const r = binding().listenUnix(path, this.#opts.backlog ?? 128);
    if (isFailure(r)) throw vsockErrorFromErrno(r.errno, r.syscall, `unix://${path}`);
    this.#start(r);
  }

  /** The bound address (CID VMADDR_CID_ANY when listening on any). */
  address(): VsockAddress {
    const a = this.#h ? toVsockAddress(this.#addr) : undefined;
    if (!a)
      throw this.#h
        ? new QlogVsockError('QLOG_ERR_VSOCK_IO/not-vsock', { uri: describe(this.#addr) })
        : new QlogVsockError('QLOG_ERR_VSOCK_IO/not-listening', {});
    return a;
  }

  get listening(): boolean {
    return this.#h !== null;
  }

  /** Stop accepting. Sockets already accepted stay open (they belong to the caller). */
  async close(): Promise<void> {
    const h = this.#h;
    if (!h) return;
    this.#h = null;
    clearTimeout(this.#backoff);
    h.onpoll = undefined;
    h.close();
    this.emit('close');
  }

  unref(): this {
    this.#refed = false;
    this.#h?.setRef(false);
    return this;
  }
  ref(): this {
    this.#refed = true;
    this.#h?.setRef(true);
    return this;
  }

  #assertIdle(): void {
    if (this.#h) throw new QlogVsockError('QLOG_ERR_VSOCK_IO/listening', { uri: describe(this.#addr) });
  }

  #start(h: NativeSocketHandle): void {
    this.#h = h;
    this.#addr = h.sockName();
    if (!this.#refed) h.setRef(false);
    h.onpoll = (status) => this.#onReadable(status);
    const r = h.poll(READABLE);
    if (r < 0) {
      void this.close();
      throw vsockErrorFromErrno(-r, 'poll', describe(this.#addr));
    }
  }

  #onReadable(status: number): void {
    const { ECONNABORTED, EPROTO } = osConstants.errno;
    for (let i = 0; i < ACCEPTS_PER_TICK; i++) {
      const h = this.#h; // null once a 'connection' handler closed the server
      if (!h) return;
      const r = status < 0 ? status : h.accept();
      if (typeof r !== 'number') {
        this.emit('connection', new VsockSocket(r, this.#opts.streamOptions));
        continue;
      }
      const errno = -r;
      if (status >= 0 && errno === EAGAIN) return;
      if (status >= 0 && (errno === EINTR || errno === ECONNABORTED || errno === EPROTO)) continue;
      // EMFILE & co, or a poll error (libuv then stops the poll): the level-triggered poll
      // would spin or stay dead, so pause accepting and try again a bit later.
      h.poll(0);
      this.#backoff = setTimeout(() => {
        if (this.#h === h) h.poll(READABLE);
      }, ACCEPT_BACKOFF_MS);
      if (!this.#refed) this.#backoff.unref();
      const err = vsockErrorFromErrno(errno, status < 0 ? 'poll' : 'accept', describe(this.#addr));
      if (this.listenerCount('error') > 0) this.emit('error', err);
      else process.emitWarning(err.message, { code: err.code });
      return;
    }
  }
}
