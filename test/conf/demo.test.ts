// `npm start` (qlog demo): logs flow within 5 s, the files match the generated log, and it stops cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startCli, waitExit } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

test("qlog demo shows lines in the parent's files within 5 s and stops cleanly on SIGINT", async (t) => {
  const dir = tempDir(t);
  const demo = startCli(['demo', '--dir', join(dir, 'demo'), '--rate', '20'], { cwd: dir, owner: t });
  const t0 = Date.now();
  await demo.waitForLine(/in files: [1-9]\d* lines/, { timeoutMs: 5_000 });
  const flowingAfter = Date.now() - t0;
  assert.ok(flowingAfter <= 5_000, `flowing after ${flowingAfter} ms`);
  assert.match(demo.stdout.join('\n'), /Watch it with: tail -F .*workspace\/service\.log/);
  await demo.waitForLine(/in files: \d+ lines \([1-9]\d* resource samples\)/, { timeoutMs: 8_000 });
  // docs/getting-started.md shows a status line: it has the shape the demo prints (numbers aside).
  const doc = readFileSync(join(ROOT, 'docs', 'getting-started.md'), 'utf8');
  const example = /^\[ *\d+s\] .*$/m.exec(doc)?.[0];
  assert.ok(example, 'getting-started.md shows a status line');
  const shape = new RegExp(
    `^${example
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\d+/g, '\\d+')
      .replace(/ +/g, ' +')}$`,
  );
  assert.ok(
    demo.stdout.some((l) => shape.test(l)),
    `a status line like the documented one:\n${example}\n${demo.stdout.join('\n')}`,
  );
  demo.signal('SIGINT');
  const exit = await waitExit(demo, 15_000);
  assert.equal(exit.code, 0, demo.stdout.join('\n') + demo.stderr.join('\n'));
  assert.match(demo.stdout.join('\n'), /stopped \(exit codes: enclave 0, parent 0\)/);
  // Everything generated before the stop was delivered (the agents drain on SIGTERM).
  assert.equal(readFileSync(join(dir, 'demo', 'workspace', 'service.log'), 'utf8'), readFileSync(join(dir, 'demo', 'service.log'), 'utf8'));
});
