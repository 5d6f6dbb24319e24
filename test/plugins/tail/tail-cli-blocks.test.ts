/**
 * tail hands its lines over as bytes (LineBlocks). Records are built where they are needed: a
 * filter gets plain records, an output without a filter in front builds them itself, and chunks
 * merged in an output queue stay whole. Both routes must give exactly the records tail always
 * produced (body, path, src, seq, flags).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../rate/cli-harness.js';

interface Out {
  tag: string;
  log: string;
  meta: { path: string; src: string; seq: number; file?: string; truncated?: boolean; invalid_utf8?: boolean };
}

test('CLI: tail lines through a filter and straight to an output give the same records', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qlog-blocks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'app.log');
  // Several reads (blocks) that the busy stdout output merges into bigger flushes.
  const N = 20_000;
  const lines: Buffer[] = [];
  for (let i = 0; i < N; i++) lines.push(Buffer.from(`line ${i} ${'x'.repeat(i % 50)}\n`));
  lines.push(Buffer.from([0x62, 0x61, 0x64, 0xff, 0x0a])); // invalid UTF-8
  lines.push(Buffer.from(`${'L'.repeat(2500)}\n`)); // longer than buffer_max_size: pieces
  lines.push(Buffer.from('ünïcødé ✓\r\n'));
  writeFileSync(path, Buffer.concat(lines));
  const expected = N + 1 + 3 + 1;
  const r = await runCli(
    'run',
    `
service:
  log_level: warn
  state_dir: \${DIR}/state
pipeline:
  inputs:
    - name: tail
      alias: filtered
      tag: via.filter
      path: ${path}
      read_from_head: true
      buffer_max_size: 1KiB
      path_key: file
    - name: tail
      alias: direct
      tag: direct
      path: ${path}
      read_from_head: true
      buffer_max_size: 1KiB
      path_key: file
  filters:
    - name: prefix
      match: 'via.*'
      prefix: ''
  outputs:
    - name: stdout
      format: json
      include_meta: true
      flush_max_size: 4MiB
`,
    { until: (s) => s.split('\n').length > 2 * expected, timeoutMs: 20_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Out);
  const via = out.filter((o) => o.tag === 'via.filter');
  const direct = out.filter((o) => o.tag === 'direct');
  assert.equal(via.length, expected);
  assert.equal(direct.length, expected);
  const strip = (o: Out) => ({
    log: o.log,
    path: o.meta.path,
    file: o.meta.file,
    seq: o.meta.seq,
    truncated: o.meta.truncated,
    invalid_utf8: o.meta.invalid_utf8,
  });
  assert.deepEqual(direct.map(strip), via.map(strip));
  // What tail's records always were.
  assert.deepEqual(strip(direct[0]!), { log: 'line 0 ', path, file: path, seq: 8, truncated: undefined, invalid_utf8: undefined });
  assert.deepEqual(strip(direct[N]!), { log: 'bad\ufffd', path, file: path, seq: direct[N - 1]!.meta.seq + 5, truncated: undefined, invalid_utf8: true });
  assert.deepEqual(
    direct.slice(N + 1, N + 4).map((o) => [o.log.length, o.meta.truncated]),
    [
      [1024, true],
      [1024, true],
      [452, true],
    ],
  );
  assert.deepEqual(strip(direct[N + 4]!).log, 'ünïcødé ✓');
  assert.ok(
    direct.every((o, i) => i === 0 || o.meta.seq > direct[i - 1]!.meta.seq),
    'seq increases',
  );
  assert.ok(new Set(direct.map((o) => o.meta.src)).size === 1 && direct[0]!.meta.src.length > 0, 'one src per file');
});
