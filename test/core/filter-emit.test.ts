// A filter's ctx.emit() injects records that pass only the filters after it, then reach the
// outputs matching their tag; filters run in config order and only on tags they match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin, nowNs, type LogRecord } from '../../core/index.js';
import { startEngine } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

const empty = { type: 'object', additionalProperties: false, properties: {} } as const;

test('injected records pass the later filters only; filters run in order, by match', async (t) => {
  let emit: ((tag: string, r: LogRecord[]) => boolean) | undefined;
  const src = definePlugin({
    kind: 'input',
    name: 'src',
    description: 'd',
    qlog: '*',
    schema: empty,
    setup: (ctx) => void (emit = (tag, r) => ctx.emit(tag, r)),
  });
  const mark = (name: string) =>
    definePlugin({
      kind: 'filter',
      name,
      description: 'appends its name',
      qlog: '*',
      schema: empty,
      setup(ctx) {
        ctx.hooks.chunk.tap('t', (chunk) => {
          for (const r of chunk.records) r.body = `${r.body as string} ${name}`;
          return chunk;
        });
      },
    });
  const summarise = definePlugin({
    kind: 'filter',
    name: 'summarise',
    description: 'emits a summary record per chunk on tag summary',
    qlog: '*',
    schema: empty,
    setup(ctx) {
      ctx.hooks.chunk.tap('t', (chunk) => {
        ctx.emit('summary', [{ time: nowNs(), tag: 'summary', body: `saw ${chunk.records.length}`, meta: {} }]);
        return chunk;
      });
    },
  });
  const got: string[] = [];
  const sink = definePlugin({
    kind: 'output',
    name: 'sink',
    description: 'd',
    qlog: '*',
    schema: empty,
    setup: (ctx) => ctx.hooks.flush.tap('t', (c) => void got.push(...c.records.map((r) => `${c.tag}: ${r.body as string}`))),
  });
  await startEngine(
    t,
    `
pipeline:
  inputs: [{ name: src }]
  filters:
    - { name: a }
    - { name: summarise, match: app.* }
    - { name: b }
    - { name: c, match: summary }
  outputs: [{ name: sink }]
`,
    [src, mark('a'), summarise, mark('b'), mark('c'), sink],
  );
  emit!('app.x', [
    { time: nowNs(), tag: 'app.x', body: 'one', meta: {} },
    { time: nowNs(), tag: 'app.x', body: 'two', meta: {} },
  ]);
  emit!('sys', [{ time: nowNs(), tag: 'sys', body: 'three', meta: {} }]);
  await waitFor(() => got.length === 4, { what: '4 records at the output' });
  assert.deepEqual(got.sort(), ['app.x: one a b', 'app.x: two a b', 'summary: saw 2 b c', 'sys: three a b'].sort());
});
