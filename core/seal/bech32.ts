/**
 * Bech32 (BIP 173, the original checksum, not bech32m) as age uses it for `age1...` recipients
 * and `AGE-SECRET-KEY-1...` identities: no 90-character limit, all-lowercase or all-uppercase.
 */
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const REV = new Map([...CHARSET].map((c, i) => [c, i]));

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

function convertBits(data: Iterable<number>, from: number, to: number, pad: boolean): number[] | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (const v of data) {
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & maxv);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) return undefined;
  return out;
}

/** `hrp` + "1" + data + checksum, lowercase. */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const words = convertBits(data, 8, 5, true)!;
  const values = [...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0];
  const mod = polymod(values) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`;
}

/** The hrp (lowercase) and bytes of a bech32 string, or a reason it is not one. */
export function bech32Decode(s: string): { hrp: string; data: Buffer } | { error: string } {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) return { error: 'mixes upper and lower case' };
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || sep + 7 > lower.length) return { error: 'has no "1" separator followed by data and a 6-character checksum' };
  const hrp = lower.slice(0, sep);
  for (const c of hrp) if (c.charCodeAt(0) < 33 || c.charCodeAt(0) > 126) return { error: 'has an invalid character in its prefix' };
  const words: number[] = [];
  for (const c of lower.slice(sep + 1)) {
    const w = REV.get(c);
    if (w === undefined) return { error: `has the character "${c}", which bech32 does not use` };
    words.push(w);
  }
  if (polymod([...hrpExpand(hrp), ...words]) !== 1) return { error: 'has a wrong checksum (a character was mistyped or lost)' };
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  if (!bytes) return { error: 'has invalid padding' };
  return { hrp, data: Buffer.from(bytes) };
}
