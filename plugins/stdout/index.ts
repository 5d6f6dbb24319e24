/** stdout: writes records to standard output, one per line. Acks once the bytes were handed to the pipe. */
import { definePlugin, isoTimeNs, recordLine, toJson, VERSION_RANGE, type Chunk, type LogRecord } from '../../core/index.js';
import { schema } from './schema.js';

function jsonLine(r: LogRecord, withMeta: boolean): string {
  const date = isoTimeNs(r.time);
  const fields = typeof r.body === 'string' ? { log: r.body } : r.body;
  return toJson(withMeta ? { date, tag: r.tag, ...fields, meta: r.meta } : { date, tag: r.tag, ...fields });
}

export default definePlugin({
  kind: 'output',
  name: 'stdout',
  description: 'Writes records to standard output: the line as is, or JSON.',
  qlog: VERSION_RANGE,
  schema,
  setup(ctx) {
    const { format, include_meta } = ctx.options;
    const out = process.stdout;
    ctx.hooks.flush.tapPromise('stdout', (chunk: Chunk) => {
      let text = '';
      for (const r of chunk.records) text += `${format === 'json' ? jsonLine(r, include_meta) : recordLine(r)}\n`;
      return new Promise<void>((resolve, reject) => {
        out.write(text, (err) => (err ? reject(err) : resolve()));
      });
    });
  },
});
