import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { lines, numbered, openRotatedFile } from './harness.js';

/** Mount a small tmpfs at `dir` (root only); returns false when impossible. */
export function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function umount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  }
}

test('ENOSPC: the flush is rejected, no torn line stays, writing resumes once space is freed, nothing lost or doubled', async (t) => {
  // One cleanup, in order: unmount, then remove (tempDir's own cleanup would run first).
  const dir = tempDir();
  const ws = join(dir, 'ws');
  mkdirSync(ws);
  const mounted = mountTmpfs(ws, '256k');
  t.after(() => {
    if (mounted) umount(ws);
    rmSync(dir, { recursive: true, force: true });
  });
  if (!mounted) return t.skip('cannot mount a tmpfs here (needs root): ENOSPC test skipped');
  // State on the same (full) disk, as qlog receive-file lays it out: the hardest case.
  const out = await openRotatedFile(t, { workspace: ws, file: 'service.log', rotate_size: '10MB' }, join(ws, '.state'));
  try {
    writeFileSync(join(ws, 'filler'), Buffer.alloc(200 * 1024));
    const acked: string[] = [];
    let failed: ReturnType<typeof lines> | undefined;
    let seq = 1;
    for (let i = 0; i < 200 && !failed; i++) {
      const text = numbered(`line ${'x'.repeat(40)}`, seq, 100);
      const c = lines(text, { src: 'S', from: seq });
      try {
        await out.flush(c);
        acked.push(...text);
        seq += 100;
      } catch (e) {
        assert.match(String(e), /ENOSPC|no space|short write/i);
        failed = c;
      }
    }
    assert.ok(failed, 'the disk never filled up');
    const content = readFileSync(join(ws, 'service.log'), 'utf8');
    assert.equal(content, `${acked.join('\n')}\n`, 'the file holds exactly the acknowledged lines (no torn line)');
    // Still full: the retry fails again, and the problem is logged once (error level) for the episode.
    await assert.rejects(out.flush(failed));
    const errors = out.logs.filter((l) => l.level === 50);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(String(errors[0]!.msg), /The disk is full: free space on/);
    rmSync(join(ws, 'filler'));
    await out.flush(failed);
    acked.push(...failed.records.map((r) => r.body as string));
    seq += 100;
    const more = numbered(`line ${'x'.repeat(40)}`, seq, 10);
    await out.flush(lines(more, { src: 'S', from: seq }));
    acked.push(...more);
    assert.equal(readFileSync(join(ws, 'service.log'), 'utf8'), `${acked.join('\n')}\n`);
    assert.ok(out.logs.some((l) => l.level === 30 && String(l.msg).includes('writing resumed')));
  } finally {
    await out.close();
  }
});

test('workspace removed while running: the write is not acked, the directory is recreated and the lines are written there', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const out = await openRotatedFile(t, { workspace: ws, file: 'sub/s.log' }, join(dir, 'state'));
  await out.flush(lines(['before'], { src: 'S', from: 1 }));
  rmSync(ws, { recursive: true });
  const c = lines(['after 1', 'after 2'], { src: 'S', from: 2 });
  await assert.rejects(out.flush(c), /deleted while being written/);
  assert.equal(out.logs.filter((l) => l.level === 50).length, 1);
  await out.flush(c);
  assert.equal(readFileSync(join(ws, 'sub', 's.log'), 'utf8'), 'after 1\nafter 2\n');
  await out.close();
});

test('mkdir: false and a missing workspace: rejected with a hint until the directory exists', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const out = await openRotatedFile(t, { workspace: ws, file: 's.log', mkdir: false }, join(dir, 'state'));
  const c = lines(['x']);
  await assert.rejects(out.flush(c));
  assert.match(String(out.logs.find((l) => l.level === 50)?.msg), /was removed or is not a directory/);
  mkdirSync(ws);
  await out.flush(c);
  assert.equal(readFileSync(join(ws, 's.log'), 'utf8'), 'x\n');
  await out.close();
});

test('a file moved away by another program (logrotate): written lines stay there, new ones go to a new file', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const out = await openRotatedFile(t, { workspace: ws, file: 's.log', rotate_size: 60 }, join(dir, 'state'));
  await out.flush(lines(['a 1', 'a 2'], { src: 'S', from: 1 }));
  renameSync(join(ws, 's.log'), join(ws, 's.log.moved'));
  // Spans two parts (rotation at 60 bytes): the first lands in the moved file, the rest in new files.
  await out.flush(lines(numbered('b', 1, 20), { src: 'S', from: 3 }));
  await out.flush(lines(['c 1'], { src: 'S', from: 23 }));
  const all = [
    's.log.moved',
    ...readdirSync(ws)
      .filter((f) => /^s\.log\.\d+$/.test(f))
      .sort((a, b) => Number(b.split('.').pop()) - Number(a.split('.').pop())),
    's.log',
  ]
    .map((f) => readFileSync(join(ws, f), 'utf8'))
    .join('');
  assert.deepEqual(all.trim().split('\n').sort(), ['a 1', 'a 2', ...numbered('b', 1, 20), 'c 1'].sort());
  await out.close();
});
