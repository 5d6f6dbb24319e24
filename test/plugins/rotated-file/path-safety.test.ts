import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { configFrom } from '../../helpers/engine.js';
import { relativeName } from '../../../plugins/rotated-file/rotated-file-path.js';
import { lines, openRotatedFile } from './harness.js';

/** Every file under `dir`, relative. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

test('names are normalised or refused syntactically', () => {
  assert.deepEqual(relativeName('a/./b//c.log'), { rel: 'a/b/c.log' });
  for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a/..', '..', 'x\ny', 'x\u0000y', '.', './']) {
    assert.ok('refused' in relativeName(bad), `${JSON.stringify(bad)} should be refused`);
  }
});

test('tags that try to leave the workspace are refused and counted; the other records are written', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  mkdirSync(ws);
  symlinkSync(outside, join(ws, 'link-dir'));
  symlinkSync(join(outside, 'target.log'), join(ws, 'link-file.log'));
  writeFileSync(join(outside, 'existing.log'), 'untouched\n');
  symlinkSync(join(outside, 'existing.log'), join(ws, 'link-existing.log'));
  const out = await openRotatedFile(t, { workspace: ws, file: '${tag}.log' }, join(dir, 'state'));
  const evil = ['../escape', '../../etc/evil', '/tmp/abs', 'a/../../b', 'link-dir/x', 'link-file', 'link-existing', 'ok'];
  const c = lines(evil.map((tag) => `from ${tag}`));
  for (const [i, r] of c.records.entries()) r.tag = evil[i]!;
  await out.flush(c);
  assert.deepEqual(tree(outside), ['existing.log']);
  assert.equal(readFileSync(join(outside, 'existing.log'), 'utf8'), 'untouched\n');
  assert.ok(!existsSync(join(dir, 'escape.log')));
  assert.deepEqual(readdirSync(ws).sort(), ['link-dir', 'link-existing.log', 'link-file.log', 'ok.log']);
  assert.equal(readFileSync(join(ws, 'ok.log'), 'utf8'), 'from ok\n');
  assert.equal(out.counters.get('refused_records'), 7);
  const warnings = out.logs.filter((l) => l.level === 40).map((l) => String(l.msg));
  assert.ok(
    warnings.some((m) => m.includes('symlink leading outside the workspace')),
    warnings.join('\n'),
  );
  assert.ok(
    warnings.some((m) => m.includes('".." would leave the workspace')),
    warnings.join('\n'),
  );
  await out.close();
});

test('a symlink inside the workspace pointing inside it is followed', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  mkdirSync(join(ws, 'real'), { recursive: true });
  symlinkSync(join(ws, 'real'), join(ws, 'alias'));
  const out = await openRotatedFile(t, { workspace: ws, file: 'alias/x.log' }, join(dir, 'state'));
  await out.flush(lines(['in']));
  assert.equal(readFileSync(join(ws, 'real', 'x.log'), 'utf8'), 'in\n');
  await out.close();
});

test('a file name that would land in the state directory is refused', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  mkdirSync(join(ws, '.state'), { recursive: true });
  const out = await openRotatedFile(t, { workspace: ws, file: '${tag}' }, join(ws, '.state'));
  const c = lines(['x', 'y']);
  c.records[0]!.tag = '.state/out.file-x.json';
  c.records[1]!.tag = 'fine.log';
  writeFileSync(join(ws, '.state', 'keep'), '');
  await out.flush(c);
  assert.equal(out.counters.get('refused_records'), 1);
  assert.equal(readFileSync(join(ws, 'fine.log'), 'utf8'), 'y\n');
  await out.close();
});

test('config: an absolute or escaping constant file name, a bad template and an unknown option are rejected', async () => {
  const cfg = (o: Record<string, unknown>) => configFrom(JSON.stringify({ pipeline: { outputs: [{ name: 'rotated-file', workspace: '/tmp/x', ...o }] } }));
  await assert.rejects(cfg({ file: '/etc/passwd' }), /absolute paths are not allowed/);
  await assert.rejects(cfg({ file: '../up.log' }), /would leave the workspace/);
  await assert.rejects(cfg({ file: '${tag' }), /unclosed/);
  await assert.rejects(cfg({ rotate_sise: 10 }), /unknown key "rotate_sise" \(did you mean "rotate_size"\?\)/);
  await assert.rejects(cfg({ fsync: 'always' }), /expected one of "off", "batch"/);
  await assert.rejects(configFrom(JSON.stringify({ pipeline: { outputs: [{ name: 'rotated-file' }] } })), /missing required option "workspace"/);
  const ok = await cfg({ rotate_size: '64KiB', mode: '0600' });
  assert.equal(ok.outputs[0]!.options.rotate_size, 65536);
});
