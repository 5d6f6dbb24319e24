/**
 * The four parser formats: text -> fields, or undefined when the text is not of the format.
 * Each is built once per parser; regexes are compiled by the caller (checked at config time).
 */

export type Fields = Record<string, unknown>;
export type FormatParser = (text: string) => Fields | undefined;

export function jsonFormat(): FormatParser {
  return (text) => {
    const t = text.trimStart();
    if (t[0] !== '{') return undefined;
    try {
      const v: unknown = JSON.parse(t);
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Fields) : undefined;
    } catch {
      return undefined;
    }
  };
}

/** Named groups of `re` become fields; groups that did not take part are left out. */
export function regexFormat(re: RegExp): FormatParser {
  return (text) => {
    const m = re.exec(text);
    if (!m?.groups) return undefined;
    const out: Fields = {};
    for (const k in m.groups) {
      const v = m.groups[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  };
}

/** `key=value key="quoted \" value" flag`: a bare key is true (as in Fluent Bit's logfmt). */
export function logfmtFormat(): FormatParser {
  return (text) => {
    const out: Fields = {};
    let i = 0;
    let n = 0;
    const len = text.length;
    while (i < len) {
      while (i < len && text.charCodeAt(i) <= 32) i++;
      if (i >= len) break;
      const ks = i;
      while (i < len && text[i] !== '=' && text.charCodeAt(i) > 32 && text[i] !== '"') i++;
      if (i === ks) return undefined; // a value without a key ("=x", a stray quote)
      const key = text.slice(ks, i);
      if (text[i] !== '=') {
        out[key] = true;
        n++;
        continue;
      }
      i++;
      if (text[i] === '"') {
        let v = '';
        i++;
        while (i < len && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < len) {
            const e = text[++i]!;
            v += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          } else v += text[i];
          i++;
        }
        if (i >= len) return undefined; // unterminated quote
        i++;
        out[key] = v;
      } else {
        const vs = i;
        while (i < len && text.charCodeAt(i) > 32) i++;
        out[key] = text.slice(vs, i);
      }
      n++;
    }
    return n ? out : undefined;
  };
}

/** Labeled Tab-separated Values: `label:value<TAB>label:value`. */
export function ltsvFormat(): FormatParser {
  return (text) => {
    if (!text) return undefined;
    const out: Fields = {};
    for (const field of text.split('\t')) {
      const c = field.indexOf(':');
      if (c <= 0) return undefined;
      out[field.slice(0, c)] = field.slice(c + 1);
    }
    return out;
  };
}
