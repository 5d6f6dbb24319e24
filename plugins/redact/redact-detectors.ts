/**
 * Built-in secret detectors. Every regex is linear (bounded repetitions, no nested quantifiers),
 * so a hostile line cannot make the filter slow; a cheap `hint` skips the regex on text that
 * cannot match. `group` 1, when the regex has it, is the part masked (context around it is kept).
 */
export const DETECTOR_NAMES = ['credit_card', 'aws_key', 'cloud_key', 'jwt', 'bearer', 'private_key', 'url_password', 'email'] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];
export const DEFAULT_DETECTORS = ['credit_card', 'aws_key', 'cloud_key', 'jwt', 'bearer', 'private_key', 'url_password'] as const;

export interface Rule {
  readonly name: string;
  /** Global regex (with the d flag, for group positions). */
  readonly re: RegExp;
  /** The regex only runs on text that contains this (string) or matches it (RegExp). */
  readonly hint?: string | RegExp;
  /** Mask this group instead of the whole match. */
  readonly group?: number | string;
  /** Rejects a candidate (e.g. a digit run that fails the Luhn check). */
  readonly accept?: (secret: string) => boolean;
}

/** Luhn checksum over the digits of `s` (separators ignored). */
export function luhn(s: string): boolean {
  let sum = 0;
  let n = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    const d = n++ % 2 === 1 ? c * 2 : c;
    sum += d > 9 ? d - 9 : d;
  }
  return n >= 13 && n <= 19 && sum % 10 === 0;
}

const DETECTORS: Record<DetectorName, Omit<Rule, 'name'>> = {
  // 13-19 digits, optionally grouped by single spaces or dashes, not part of a longer number.
  // Card numbers start with 2-6 (Mastercard 2/5, Amex/JCB/Diners 3, Visa 4, Discover/UnionPay 6):
  // epoch timestamps in ms or ns (1...) pass Luhn one time in ten and must not be masked.
  credit_card: { re: /(?<![\d.-])[2-6](?:[ -]?\d){12,18}(?!\d)/dg, hint: /\d{4}/, accept: luhn },
  aws_key: {
    re: /\b(?:(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|AKPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])|(?:aws|AWS)_?(?:secret|SECRET)_?(?:access|ACCESS)_?(?:key|KEY)["']?\s{0,4}[:=]\s{0,4}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+]))/dg,
    hint: /A[A-Z]{3}[A-Z0-9]{16}|secret_?access/i,
    group: 1,
  },
  cloud_key: {
    re: /\b(?:AIza[0-9A-Za-z_-]{35}|gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255}|xox[abposr]-[A-Za-z0-9-]{10,250})(?![A-Za-z0-9_-])/dg,
    hint: /AIza|gh[pousr]_|github_pat_|xox[abposr]-/,
  },
  // header.payload.signature, base64url; the header of a JWT is JSON, so it starts with eyJ ('{"').
  jwt: { re: /\beyJ[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{4,16384}\.[A-Za-z0-9_-]{8,4096}(?![A-Za-z0-9_.-])/dg, hint: 'eyJ' },
  bearer: { re: /\bbearer\s{1,4}([A-Za-z0-9._~+/-]{8,4096}=*)/dgi, hint: /bearer/i, group: 1 },
  // BEGIN ... END (or to the end of the record when the END line is missing).
  private_key: {
    re: /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY( BLOCK)?-----[\s\S]{0,65536}?(?:-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY( BLOCK)?-----|$)/dg,
    hint: 'PRIVATE KEY',
  },
  url_password: { re: /\b[A-Za-z][A-Za-z0-9+.-]{0,20}:\/\/[^\s:/@]{1,256}:([^\s@/]{1,256})@/dg, hint: '://', group: 1 },
  email: { re: /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b/dg, hint: '@' },
};

/** The rules of the named detectors, in DETECTOR_NAMES order. */
export function detectorRules(names: readonly DetectorName[]): Rule[] {
  const on = new Set(names);
  return DETECTOR_NAMES.filter((n) => on.has(n)).map((name) => ({ name, ...DETECTORS[name] }));
}

/**
 * A group that contains an unbounded quantifier and is itself repeated, e.g. (a+)+ or (\w*)*:
 * the classic shape of exponential backtracking. A heuristic (it does not parse every regex),
 * but it catches the patterns that stall agents in practice.
 */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;

/** A user pattern compiled (global, with indices), or an error message saying why not. */
export function compilePattern(p: { name: string; regex: string; flags?: string }): Rule | string {
  let re: RegExp;
  try {
    re = new RegExp(p.regex, `${p.flags ?? ''}dg`);
  } catch (e) {
    return `pattern "${p.name}" is not a valid regular expression: ${(e as Error).message}`;
  }
  if (NESTED_QUANTIFIER.test(p.regex)) {
    return `pattern "${p.name}" has a repeated group with a quantifier inside (like (a+)+), which can take exponential time; expected a pattern without nested quantifiers`;
  }
  if (re.test('')) return `pattern "${p.name}" matches the empty string; expected a pattern that needs at least one character`;
  return { name: p.name, re, group: /\(\?<secret>/.test(p.regex) ? 'secret' : undefined };
}
