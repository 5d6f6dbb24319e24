/**
 * Values every transport shares, in a module without imports: the native vsock module uses them
 * too and must not pull in the net-based transports.
 */

/** VMADDR_CID_ANY: listen on every local CID (`any` in a vsock URI). */
export const VSOCK_CID_ANY = 0xffffffff;

/** How long a connect may take when the caller does not say (every transport, vsock included). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * A vsock address as URIs and messages write it: `vsock://any:6000`, `vsock://3:6000` (a string
 * CID, such as an env reference in a generated config, is written as it is).
 */
export function vsockUri(cid: number | string, port: number): string {
  return `vsock://${cid === VSOCK_CID_ANY ? 'any' : cid}:${port}`;
}
