/**
 * Tag matching with Fluent Bit semantics: the pattern covers the whole tag, `*` matches any
 * run of characters (dots included), everything else is literal. A list ORs its patterns.
 */
export type TagMatcher = (tag: string) => boolean;

function compileOne(pattern: string): TagMatcher {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*')) return (tag) => tag === pattern;
  const parts = pattern.split('*');
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1);
  return (tag) => {
    if (tag.length < first.length + last.length || !tag.startsWith(first) || !tag.endsWith(last)) return false;
    let pos = first.length;
    const end = tag.length - last.length;
    for (const m of middle) {
      const i = tag.indexOf(m, pos);
      if (i < 0 || i + m.length > end) return false;
      pos = i + m.length;
    }
    return true;
  };
}

export function compileMatch(pattern: string | readonly string[]): TagMatcher {
  const list = typeof pattern === 'string' ? [pattern] : pattern;
  const fns = list.map(compileOne);
  if (fns.length === 1) return fns[0]!;
  return (tag) => fns.some((f) => f(tag));
}
