/**
 * loki: the push API, POST /loki/api/v1/push with a JSON body (Grafana Loki 2.x and 3.x):
 *   {"streams":[{"stream":{"job":"qlog","tag":"app"},"values":[["<ns since epoch>","<line>"],...]}]}
 * Timestamps are nanoseconds as decimal strings; entries are sorted by time within each stream
 * (Loki before 2.4, or with unordered_writes off, rejects an older entry after a newer one).
 * Success is 204 No Content; the whole push is accepted or not.
 */
import { compileTemplate, type Template } from '../../core/template.js';
import { recordLine, type LogRecord } from '../../core/index.js';
import type { Format } from './http-format.js';

/** Loki's label name rule (Prometheus' data model). */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export interface Label {
  name: string;
  value: string;
}

/** `job=qlog,tag=${tag}` as name/value pairs; throws a message for a malformed pair. */
export function parseLabels(spec: string): Label[] {
  const out: Label[] = [];
  for (const part of spec.split(',')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (eq < 0 || !LABEL_NAME.test(name)) {
      throw new Error(
        `expected name=template pairs separated by commas, with names of letters, digits and _ (not starting with a digit), found ${JSON.stringify(part.trim())}`,
      );
    }
    if (out.some((l) => l.name === name)) throw new Error(`label ${JSON.stringify(name)} is given twice`);
    out.push({ name, value: part.slice(eq + 1).trim() });
  }
  if (!out.length) throw new Error('expected at least one label (Loki needs one per stream), e.g. job=qlog');
  return out;
}

interface Stream {
  labels: Record<string, string>;
  entries: { time: bigint; line: string }[];
}

export function lokiFormat(labelSpec: string, hostname: string): Format {
  const labels = parseLabels(labelSpec).map((l) => ({ name: l.name, render: compileTemplate(l.value, { hostname }) as Template }));
  return {
    path: '/loki/api/v1/push',
    contentType: 'application/json',
    encode(records: readonly LogRecord[]): string {
      const streams = new Map<string, Stream>();
      for (const r of records) {
        let key = '';
        const values: string[] = [];
        for (const l of labels) {
          const v = l.render(r);
          values.push(v);
          key += `${v}\u0000`;
        }
        let s = streams.get(key);
        if (!s) {
          const set: Record<string, string> = {};
          labels.forEach((l, i) => {
            if (values[i]) set[l.name] = values[i]!;
          });
          s = { labels: set, entries: [] };
          streams.set(key, s);
        }
        s.entries.push({ time: r.time, line: recordLine(r) });
      }
      const out: string[] = [];
      for (const s of streams.values()) {
        // Stable: records of the same nanosecond keep their order.
        s.entries.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
        const values = s.entries.map((e) => `[${JSON.stringify(e.time.toString())},${JSON.stringify(e.line)}]`).join(',');
        out.push(`{"stream":${JSON.stringify(s.labels)},"values":[${values}]}`);
      }
      return `{"streams":[${out.join(',')}]}`;
    },
  };
}
