// The install commands in the docs name this version's files and the CLI's V8 flags, so a version
// bump or a new flag fails here instead of leaving a copy-paste that does not work.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { VERSION } from '../../core/version.js';
import { shebangNodeArgs } from '../helpers/cli.js';
import { ROOT } from '../sdk/helpers.js';

const doc = (f: string) => readFileSync(join(ROOT, f), 'utf8');

test("README and getting-started install this version's tarball", () => {
  const line = `npm ci && npm pack && npm install -g ./qlog-${VERSION}.tgz`;
  assert.ok(
    doc('README.md')
      .split('\n')
      .slice(0, 8)
      .some((l) => l.startsWith(line)),
    `README's first lines lack: ${line}`,
  );
  assert.ok(doc('docs/getting-started.md').includes(line), `getting-started lacks: ${line}`);
});

test("deploy.md names this version's archive and the launcher's V8 flags", () => {
  const d = doc('docs/deploy.md');
  assert.ok(d.includes(`release/qlog-${VERSION}-linux-x64.tar.gz`));
  const flags = shebangNodeArgs();
  assert.ok(flags.length > 0);
  assert.ok(d.includes(`(\`${flags.join(' ')}\``), 'the flags in the archive table');
  assert.ok(
    d.includes(`["node", ${flags.map((f) => JSON.stringify(f)).join(', ')}, "/opt/qlog/dist/core/cli/main.js"`),
    'the flags in the shell-less ENTRYPOINT',
  );
});

test("every qlog tarball or archive the docs name is this version's", () => {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  for (const f of files) {
    for (const m of doc(f).matchAll(/qlog-(\d+\.\d+\.\d+[^/\s]*?)(?:-linux-x64\.tar\.gz|\.tgz)/g)) {
      assert.equal(m[1], VERSION, `${f} names ${m[0]}`);
    }
  }
});
