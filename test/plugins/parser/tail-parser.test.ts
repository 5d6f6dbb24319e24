// tail's `parser:` option: each line becomes the parsed fields; a line the parser cannot read
// stays a line and counts parse_errors on the tail instance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tail from '../../../plugins/tail/index.js';
import { createHarness } from '../../../core/testing/index.js';

test('tail parser: cri lines with P and F flags become fields; a bad line is kept and counted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qlog-tail-parser-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'c.log');
  writeFileSync(
    path,
    [
      '2023-10-06T00:17:09.669794202Z stdout P first half, ',
      '2023-10-06T00:17:09.669794202Z stdout F second half',
      'garbage without a time',
      '2023-10-06T00:17:10.000000001Z stderr F oops',
      '',
    ].join('\n'),
  );
  const h = await createHarness(tail, { options: { path, read_from_head: true, parser: 'cri' }, service: { state_dir: join(dir, 'state') } });
  t.after(() => h.stop());
  const recs = await h.collect({ count: 4 });
  assert.deepEqual(
    recs.map((r) => [r.time, r.body]),
    [
      [1696551429669794202n, { time: '2023-10-06T00:17:09.669794202Z', stream: 'stdout', logtag: 'P', message: 'first half, ' }],
      [1696551429669794202n, { time: '2023-10-06T00:17:09.669794202Z', stream: 'stdout', logtag: 'F', message: 'second half' }],
      [recs[2]!.time, 'garbage without a time'],
      [1696551430000000001n, { time: '2023-10-06T00:17:10.000000001Z', stream: 'stderr', logtag: 'F', message: 'oops' }],
    ],
  );
  assert.equal(recs[0]!.meta.path, path);
  assert.equal(h.counters.parse_errors, 1);
});
