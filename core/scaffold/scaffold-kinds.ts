/**
 * Per-kind templates of `qlog new-plugin`: the options schema, the plugin source and a test
 * using qlog/testing. Each is small, runs as generated, and shows the parts of the API a
 * plugin of that kind needs (filter: chunk hook, check, counters; input: emit, pause/resume,
 * start/stop; output: flush with ack / retry / PermanentError).
 */
import type { PluginKind } from '../plugin/define.js';
import type { OptionsSchema } from '../plugin/schema.js';

export interface KindTemplate {
  description: string;
  schema: OptionsSchema;
  /** src/index.ts */
  source(name: string, range: string): string;
  /** test/<name>.test.ts */
  test(name: string): string;
  /** pipeline section of the README's config example */
  example(name: string, pkg: string): string;
}

const filter: KindTemplate = {
  description: 'Drops records whose line matches a regular expression (or keeps only those).',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      pattern: { type: 'string', default: 'DEBUG', description: "Regular expression tested against each record's line." },
      invert: { type: 'boolean', default: false, description: 'Keep only the records that match, drop the others.' },
    },
  },
  source: (name, range) => `import { definePlugin, recordLine } from 'qlog';
import { schema } from './schema.js';

export default definePlugin({
  kind: 'filter',
  name: '${name}',
  description: ${JSON.stringify(filter.description)},
  // The qlog versions this plugin works with; the host refuses to load it elsewhere.
  qlog: '${range}',
  schema,
  // Cross-field checks JSON Schema cannot express: reported like any config error.
  check(options) {
    try {
      new RegExp(options.pattern);
      return undefined;
    } catch (e) {
      return { key: 'pattern', message: 'not a valid regular expression: ' + (e as Error).message };
    }
  },
  setup(ctx) {
    // ctx.options is typed from the schema: { pattern: string; invert: boolean }.
    const re = new RegExp(ctx.options.pattern);
    const { invert } = ctx.options;
    // Called once per chunk (a batch of records with one tag); return the chunk.
    ctx.hooks.chunk.tap('${name}', (chunk) => {
      const kept = chunk.records.filter((r) => re.test(recordLine(r)) === invert);
      const dropped = chunk.records.length - kept.length;
      if (dropped > 0) ctx.counters.add('matched_records', dropped);
      chunk.records = kept;
      return chunk;
    });
  },
});
`,
  test: (_name) => `import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createHarness, withOptionsTable } from 'qlog/testing';
import plugin from '../src/index.js';

test('drops the lines that match the pattern', async () => {
  const h = await createHarness(plugin, { options: { pattern: '^DEBUG' } });
  const out = await h.filter(['DEBUG starting', 'INFO ready', 'DEBUG tick', 'WARN slow']);
  assert.deepEqual(out.map((r) => r.body), ['INFO ready', 'WARN slow']);
  assert.equal(h.counters.matched_records, 2);
  await h.stop();
});

test('invert keeps only the matching lines', async () => {
  const h = await createHarness(plugin, { options: { pattern: 'ERROR', invert: true } });
  const out = await h.filter(['ok', 'ERROR disk full', { message: 'ERROR in object body' }]);
  assert.deepEqual(out.map((r) => r.body), ['ERROR disk full', { message: 'ERROR in object body' }]);
  await h.stop();
});

test('an invalid pattern is a config error', async () => {
  await assert.rejects(createHarness(plugin, { options: { pattern: '(' } }), /pattern: not a valid regular expression/);
});

test('an unknown option is rejected', async () => {
  await assert.rejects(createHarness(plugin, { options: { patern: 'x' } }), /unknown key "patern" \\(did you mean "pattern"\\?\\)/);
});

test('README options table matches the schema (npm run docs updates it)', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.equal(readme, withOptionsTable(readme, plugin));
});
`,
  example: (name) => `  inputs:
    - name: dummy
      dummy: DEBUG this line is dropped
      rate: 1
    - name: dummy
      dummy: INFO this line passes
      rate: 1
  filters:
    - name: ${name}
      match: '*'
      pattern: ^DEBUG
  outputs:
    - name: stdout`,
};

const input: KindTemplate = {
  description: 'Emits a line at a fixed interval (a heartbeat).',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      message: { type: 'string', default: 'heartbeat', description: 'The line to emit.' },
      interval: { unit: 'duration', default: '1s', description: 'Time between two lines (15 = seconds, 500ms, 1m).' },
    },
  },
  source: (name, range) => `import { definePlugin, nowNs } from 'qlog';
import { schema } from './schema.js';

export default definePlugin({
  kind: 'input',
  name: '${name}',
  description: ${JSON.stringify(input.description)},
  // The qlog versions this plugin works with; the host refuses to load it elsewhere.
  qlog: '${range}',
  schema,
  setup(ctx) {
    // Durations arrive in milliseconds, sizes in bytes.
    const { message, interval } = ctx.options;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let seq = 0;

    const tick = () => {
      const record = { time: nowNs(), tag: ctx.tag, body: message, meta: { seq: ++seq } };
      // emit() returns false when downstream is full; the pause hook has fired by then.
      ctx.emit(ctx.tag, [record]);
    };
    const run = () => {
      if (!stopped && !timer) timer = setInterval(tick, interval);
    };
    const halt = () => {
      clearInterval(timer);
      timer = undefined;
    };

    // start: every output and filter is ready. stop: produce nothing more.
    ctx.hooks.start.tap('${name}', run);
    ctx.hooks.stop.tap('${name}', () => {
      stopped = true;
      halt();
    });
    // Backpressure: stop producing while downstream is full.
    ctx.hooks.pause.tap('${name}', halt);
    ctx.hooks.resume.tap('${name}', run);
  },
});
`,
  test: (_name) => `import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { createHarness, withOptionsTable } from 'qlog/testing';
import plugin from '../src/index.js';

test('emits the message at the interval', async () => {
  const h = await createHarness(plugin, { options: { message: 'hello', interval: '10ms', tag: 'beat' } });
  assert.equal(h.options.interval, 10); // durations arrive in milliseconds
  const records = await h.collect({ count: 3 });
  assert.deepEqual(records.map((r) => r.body), ['hello', 'hello', 'hello']);
  assert.deepEqual(records.map((r) => r.tag), ['beat', 'beat', 'beat']);
  await h.stop();
});

test('stops producing while paused and resumes after', async () => {
  const h = await createHarness(plugin, { options: { interval: '10ms' } });
  await h.collect({ count: 1 });
  h.pause(); // downstream full: the next emit() returns false and the pause hook fires
  await h.waitFor(() => h.paused);
  const n = h.received.length;
  await sleep(60);
  assert.equal(h.received.length, n);
  h.resume();
  await h.waitFor(() => h.received.length > n);
  await h.stop();
});

test('an unknown option is rejected', async () => {
  await assert.rejects(createHarness(plugin, { options: { intervall: '1s' } }), /unknown key "intervall"/);
});

test('README options table matches the schema (npm run docs updates it)', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.equal(readme, withOptionsTable(readme, plugin));
});
`,
  example: (name) => `  inputs:
    - name: ${name}
      tag: heartbeat
      interval: 5s
  outputs:
    - name: stdout
      match: '*'`,
};

const output: KindTemplate = {
  description: 'Appends records to a file, one line each (the line as is, or JSON).',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', description: "File the records are appended to (relative paths start from the config file's directory)." },
      format: { enum: ['line', 'json'], default: 'line', description: 'line: the record\'s line; json: {"time", "tag", "body"} per line.' },
    },
  },
  source: (name, range) => `import { appendFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { definePlugin, PermanentError, recordLine, type LogRecord } from 'qlog';
import { schema } from './schema.js';

function json(r: LogRecord): string {
  return JSON.stringify({ time: Number(r.time / 1_000_000n), tag: r.tag, body: r.body });
}

export default definePlugin({
  kind: 'output',
  name: '${name}',
  description: ${JSON.stringify(output.description)},
  // The qlog versions this plugin works with; the host refuses to load it elsewhere.
  qlog: '${range}',
  schema,
  setup(ctx) {
    const file = resolve(ctx.service.configDir, ctx.options.path);
    const { format } = ctx.options;
    // One call per chunk. Resolve = acknowledged (the data is safe); reject = the core retries
    // with backoff (retry_limit); PermanentError = drop now (counted), retrying cannot help.
    ctx.hooks.flush.tapPromise('${name}', async (chunk) => {
      let text = '';
      for (const r of chunk.records) text += (format === 'json' ? json(r) : recordLine(r)) + '\\n';
      try {
        await appendFile(file, text);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw new PermanentError(file + ' is a directory');
        throw e;
      }
    });
    ctx.hooks.stop.tap('${name}', () => ctx.log.info({ file }, 'stopped'));
  },
});
`,
  test: (name) => `import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createHarness, withOptionsTable } from 'qlog/testing';
import plugin from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), '${name}-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('appends the lines and acks', async () => {
  const path = join(dir, 'out.log');
  const h = await createHarness(plugin, { options: { path } });
  const r = await h.flush(['first', { message: 'second' }]);
  assert.equal(r.status, 'acked');
  assert.equal(readFileSync(path, 'utf8'), 'first\\nsecond\\n');
  assert.equal(h.counters.records_out, 2);
  await h.stop();
});

test('json format', async () => {
  const path = join(dir, 'out.json');
  const h = await createHarness(plugin, { options: { path, format: 'json' } });
  await h.flush([{ body: 'x', tag: 'app' }]);
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).body, 'x');
  await h.stop();
});

test('a directory cannot be written: the chunk is dropped, not retried', async () => {
  const h = await createHarness(plugin, { options: { path: dir, retry_limit: 3 } });
  const r = await h.flush(['lost']);
  assert.equal(r.status, 'dropped');
  assert.equal(r.attempts, 1);
  await h.stop();
});

test('path is required', async () => {
  await assert.rejects(createHarness(plugin, { options: {} }), /missing required option "path"/);
});

test('README options table matches the schema (npm run docs updates it)', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.equal(readme, withOptionsTable(readme, plugin));
});
`,
  example: (name) => `  inputs:
    - name: dummy
      dummy: '{"message":"hello"}'
  outputs:
    - name: ${name}
      match: '*'
      path: ./out.log`,
};

export const KINDS: Record<PluginKind, KindTemplate> = { input, filter, output };

function quote(s: string): string {
  return `'${JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

/** A value as a TypeScript literal, prettier-like: one line when it fits, else one entry per line. */
function literal(v: unknown, indent: string): string {
  if (typeof v === 'string') return quote(v);
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const inner = `${indent}  `;
  const isArray = Array.isArray(v);
  const parts = isArray
    ? v.map((x) => literal(x, inner))
    : Object.entries(v).map(([k, x]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k)}: ${literal(x, inner)}`);
  const [open, close] = isArray ? ['[', ']'] : ['{ ', ' }'];
  const flat = parts.length ? `${open}${parts.join(', ')}${close}` : isArray ? '[]' : '{}';
  if (!flat.includes('\n') && indent.length + flat.length <= 100) return flat;
  return `${open.trim()}\n${parts.map((p) => `${inner}${p},`).join('\n')}\n${indent}${close.trim()}`;
}

/** src/schema.ts for a kind: the schema as a TypeScript `as const` literal. */
export function schemaSource(schema: OptionsSchema): string {
  return `/**
 * The plugin's options as JSON Schema. It drives validation (unknown keys, types, defaults),
 * the TypeScript type of ctx.options, \`qlog plugins <name>\` and the README table. Every
 * property needs a description and a default (or be listed in "required"). qlog keywords:
 * unit: 'size' | 'duration' (the plugin receives bytes / milliseconds), template: true.
 */
export const schema = ${literal(schema, '')} as const;
`;
}
