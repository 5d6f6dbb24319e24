/**
 * elasticsearch: the _bulk API (Elasticsearch 7.x and 8.x, OpenSearch 1.x and 2.x). The body is
 * NDJSON pairs, an action line then the document, with a final newline:
 *   {"index":{"_index":"qlog-app","_id":"<src>:<seq>"}}
 *   {"@timestamp":"2026-12-04T10:00:00.000000001Z","tag":"app","log":"..."}
 * The _id derived from meta.src and meta.seq makes a resend overwrite (index) or be refused as
 * a duplicate (create, 409) instead of storing the record twice. The response holds one item
 * per action, in order, each with its own status: they are read item by item.
 */
import { compileTemplate, type Template } from '../../core/template.js';
import type { LogRecord } from '../../core/index.js';
import { documentJson, type Accepted, type DocumentShape, type Format, type ItemVerdict } from './http-format.js';

export interface ElasticsearchOptions extends DocumentShape {
  index: string;
  action: 'index' | 'create';
  idFromSource: boolean;
  hostname: string;
}

/** `%Y %m %d %H` of the record time (UTC), cached per hour. */
function dated(index: Template): (r: LogRecord) => string {
  let hour = -1n;
  let parts: Record<string, string> = {};
  return (r) => {
    const h = r.time / 3_600_000_000_000n;
    if (h !== hour) {
      const d = new Date(Number(h) * 3_600_000).toISOString();
      parts = { Y: d.slice(0, 4), m: d.slice(5, 7), d: d.slice(8, 10), H: d.slice(11, 13), '%': '%' };
      hour = h;
    }
    return index(r).replace(/%([YmdH%])/g, (_m, k: string) => parts[k]!);
  };
}

interface BulkItem {
  status?: number;
  error?: { type?: string; reason?: string } | string;
}

export function elasticsearchFormat(o: ElasticsearchOptions): Format {
  const template = compileTemplate(o.index, { hostname: o.hostname });
  const indexOf = o.index.includes('%') ? dated(template) : template;
  const constantHead = template.constant && !o.index.includes('%') ? `{"${o.action}":{"_index":${JSON.stringify(template(undefined as never))}` : undefined;
  return {
    path: '/_bulk',
    contentType: 'application/x-ndjson',
    encode(records: readonly LogRecord[]): string {
      let s = '';
      for (const r of records) {
        const head = constantHead ?? `{"${o.action}":{"_index":${JSON.stringify(indexOf(r))}`;
        const { src, seq } = r.meta;
        const id = o.idFromSource && typeof src === 'string' && typeof seq === 'number' ? `,"_id":${JSON.stringify(`${src}:${seq}`)}` : '';
        s += `${head}${id}}}\n${documentJson(r, o)}\n`;
      }
      return s;
    },
    accepted(body: Buffer, count: number): Accepted {
      // {"took":3,"errors":false,...}: every item succeeded, no need to read the items.
      if (/"errors"\s*:\s*false/.test(body.subarray(0, 256).toString('latin1'))) return {};
      const res = JSON.parse(body.toString('utf8')) as { errors?: boolean; items?: Record<string, BulkItem>[] };
      if (res.errors === false) return {};
      const items = res.items ?? [];
      if (items.length !== count) throw new Error(`the bulk response has ${items.length} items for ${count} actions`);
      return { items: items.map((it) => verdict(it, o.action)) };
    },
  };
}

function verdict(item: Record<string, BulkItem>, action: string): ItemVerdict {
  const r = item[action] ?? Object.values(item)[0] ?? {};
  const status = r.status ?? 500;
  // create of an _id that exists: the record was stored by an earlier (resent) request.
  if (status === 409 && action === 'create') return { status: 200 };
  if (status < 300) return { status };
  const e = r.error;
  const reason = typeof e === 'string' ? e : e ? `${e.type ?? 'error'}: ${e.reason ?? ''}` : `status ${status}`;
  return { status, reason };
}
