/**
 * strptime-style time formats as Fluent Bit writes them (`%Y-%m-%dT%H:%M:%S.%L%z`), compiled
 * once into a function from text to nanoseconds since the epoch (bigint).
 * Directives: %Y %y %m %d %e %H %k %I %l %p %M %S %L (fraction, 1-9 digits) %f (same) %z
 * (+hh:mm, +hhmm, Z) %Z (a zone name: UTC/GMT/Z only) %b %h %B (month names) %a %A (day names,
 * skipped) %j (day of year) %s (epoch seconds) %T (%H:%M:%S) %F (%Y-%m-%d) %D (%m/%d/%y) %n %t
 * (whitespace) %%. A format without a year (syslog's `%b %d %H:%M:%S`) takes the current year.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const DIRECTIVES = 'YymdeHkIlpMSLfzZbhBaAjsTFDnt%';

interface Parts {
  year: number | undefined;
  month: number;
  day: number;
  yday: number;
  hour: number;
  pm: number; // -1 none, 0 am, 1 pm
  min: number;
  sec: number;
  frac: bigint;
  offsetMin: number;
  epoch: bigint | undefined;
}

type Step = (s: string, at: number, p: Parts) => number; // new position, -1 on mismatch

const isDigit = (c: number) => c >= 48 && c <= 57;

function num(min: number, max: number, maxLen: number, set: (p: Parts, v: number) => void, pad = false): Step {
  return (s, at, p) => {
    let i = at;
    if (pad) while (s.charCodeAt(i) === 32) i++;
    const start = i;
    let v = 0;
    while (i - start < maxLen && isDigit(s.charCodeAt(i))) v = v * 10 + s.charCodeAt(i++) - 48;
    if (i === start || v < min || v > max) return -1;
    set(p, v);
    return i;
  };
}

function names(lists: readonly (readonly string[])[], set: ((p: Parts, v: number) => void) | undefined): Step {
  return (s, at, p) => {
    const low = s.slice(at, at + 9).toLowerCase();
    for (const list of lists) {
      for (let k = 0; k < list.length; k++) {
        if (low.startsWith(list[k]!)) {
          set?.(p, k);
          return at + list[k]!.length;
        }
      }
    }
    return -1;
  };
}

const fraction: Step = (s, at, p) => {
  let i = at;
  let digits = '';
  while (isDigit(s.charCodeAt(i))) digits += s[i++];
  if (!digits) return -1;
  p.frac = BigInt(digits.slice(0, 9).padEnd(9, '0'));
  return i;
};

const zone: Step = (s, at, p) => {
  const c = s[at];
  if (c === 'Z' || c === 'z') {
    p.offsetMin = 0;
    return at + 1;
  }
  const m = /^([+-])(\d\d):?(\d\d)?/.exec(s.slice(at, at + 6));
  if (!m) return -1;
  p.offsetMin = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
  return at + m[0].length;
};

const zoneName: Step = (s, at, p) => {
  const m = /^(UTC|GMT|Z)/i.exec(s.slice(at, at + 3));
  if (!m) return -1;
  p.offsetMin = 0;
  return at + m[0].length;
};

const space: Step = (s, at) => {
  let i = at;
  while (s[i] === ' ' || s[i] === '\t' || s[i] === '\n') i++;
  return i;
};

const epoch: Step = (s, at, p) => {
  const m = /^-?\d+/.exec(s.slice(at, at + 20));
  if (!m) return -1;
  p.epoch = BigInt(m[0]);
  return at + m[0].length;
};

function literal(text: string): Step {
  return (s, at) => {
    // Like strptime, a space in the format matches any run of white space (syslog pads days).
    if (text === ' ') return s[at] === ' ' ? space(s, at, undefined as never) : -1;
    return s.startsWith(text, at) ? at + text.length : -1;
  };
}

function directive(d: string): Step[] {
  switch (d) {
    case 'Y':
      return [num(0, 9999, 4, (p, v) => (p.year = v))];
    case 'y':
      return [num(0, 99, 2, (p, v) => (p.year = v < 69 ? 2000 + v : 1900 + v))];
    case 'm':
      return [num(1, 12, 2, (p, v) => (p.month = v - 1))];
    case 'd':
    case 'e':
      return [num(1, 31, 2, (p, v) => (p.day = v), true)];
    case 'H':
    case 'k':
      return [num(0, 23, 2, (p, v) => (p.hour = v), true)];
    case 'I':
    case 'l':
      return [num(1, 12, 2, (p, v) => (p.hour = v % 12), true)];
    case 'p':
      return [names([['am', 'pm']], (p, v) => (p.pm = v))];
    case 'M':
      return [num(0, 59, 2, (p, v) => (p.min = v))];
    case 'S':
      return [num(0, 60, 2, (p, v) => (p.sec = v))];
    case 'L':
    case 'f':
      return [fraction];
    case 'z':
      return [zone];
    case 'Z':
      return [zoneName];
    case 'b':
    case 'h':
    case 'B':
      return [names([MONTH_NAMES, MONTHS], (p, v) => (p.month = v))];
    case 'a':
    case 'A':
      return [names([DAY_NAMES, DAYS], undefined)];
    case 'j':
      return [num(1, 366, 3, (p, v) => (p.yday = v))];
    case 's':
      return [epoch];
    case 'T':
      return [...directive('H'), literal(':'), ...directive('M'), literal(':'), ...directive('S')];
    case 'F':
      return [...directive('Y'), literal('-'), ...directive('m'), literal('-'), ...directive('d')];
    case 'D':
      return [...directive('m'), literal('/'), ...directive('d'), literal('/'), ...directive('y')];
    case 'n':
    case 't':
      return [space];
    default:
      return [literal('%')];
  }
}

export class TimeFormatError extends Error {}

/** Text -> nanoseconds since the epoch, or undefined when the text does not fit the format. */
export type TimeParser = (text: string) => bigint | undefined;

/** Compile `format` once; throws TimeFormatError for an unknown directive. */
export function compileTimeFormat(format: string): TimeParser {
  const steps: { step: Step; optionalFraction: boolean }[] = [];
  let lit = '';
  const flush = () => {
    for (const ch of lit.split(/( )/)) if (ch) steps.push({ step: literal(ch), optionalFraction: false });
    lit = '';
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      lit += c;
      continue;
    }
    const d = format[++i];
    if (d === undefined || !DIRECTIVES.includes(d)) throw new TimeFormatError(`unknown time_format directive "%${d ?? ''}" in "${format}"`);
    if (d === '%') {
      lit += '%';
      continue;
    }
    // ".%L": the fraction and the dot before it are optional (RFC 5424 and RFC 3339 times may omit them).
    const fractionAfterDot = (d === 'L' || d === 'f') && (lit.endsWith('.') || lit.endsWith(','));
    const sep = fractionAfterDot ? lit.slice(-1) : '';
    if (sep) lit = lit.slice(0, -1);
    flush();
    if (sep) {
      const f = directive(d)[0]!;
      steps.push({ step: (s, at, p) => (s[at] === sep ? f(s, at + 1, p) : at), optionalFraction: true });
    } else for (const step of directive(d)) steps.push({ step, optionalFraction: false });
  }
  flush();
  const hasYear = /%[YyFDs]/.test(format);
  const hasDate = /%[bhBmdejFDs]/.test(format);
  return (text) => {
    const p: Parts = { year: undefined, month: 0, day: 1, yday: 0, hour: 0, pm: -1, min: 0, sec: 0, frac: 0n, offsetMin: 0, epoch: undefined };
    let at = 0;
    for (const { step } of steps) {
      at = step(text, at, p);
      if (at < 0) return undefined;
    }
    if (p.epoch !== undefined) return p.epoch * 1_000_000_000n + p.frac;
    const now = new Date();
    const year = p.year ?? (hasYear ? 1970 : now.getUTCFullYear());
    let month = p.month;
    let day = p.day;
    if (!hasDate) {
      month = now.getUTCMonth();
      day = now.getUTCDate();
    }
    const hour = p.pm === 1 ? p.hour + 12 : p.hour;
    let ms = Date.UTC(year, month, p.yday ? 1 : day, hour, p.min, p.sec);
    if (p.yday) ms += (p.yday - 1) * 86_400_000;
    if (Number.isNaN(ms)) return undefined;
    ms -= p.offsetMin * 60_000;
    return BigInt(ms) * 1_000_000n + p.frac;
  };
}
