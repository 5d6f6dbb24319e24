/**
 * rotated-file: writes records as lines to size-rotated files in a workspace directory
 * (logrotate names: <file>.1 newest .. <file>.N), exactly once per record that carries
 * meta.src/meta.seq. See rotated-file-writer.ts for the write/ack order and docs/operations.md.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { definePlugin, VERSION_RANGE, type Chunk, type EntryBlock, type LogRecord } from '../../core/index.js';
import { entryBlocks } from '../../core/record.js';
import { compileTemplate, TemplateError } from '../../core/template.js';
import { formatter, type Format } from './rotated-file-format.js';
import { confine, RefusedPath, relativeName, workspaceRoot } from './rotated-file-path.js';
import { WriterPool } from './rotated-file-pool.js';
import { loadWriterModules, RotatedFileWriter, type Progress } from './rotated-file-writer.js';
import { schema } from './schema.js';

const MAX_NAME_CACHE = 10_000;
const MAX_PROGRESS = 1_000;
const REFUSAL_LOG_EVERY_MS = 60_000;

/** State file name for a workspace-relative file name (readable when short, hashed when long). */
function stateName(rel: string): string {
  const enc = rel.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `file-${enc.length <= 150 ? enc : createHash('sha1').update(rel).digest('hex')}.json`;
}

function hint(code: string | undefined, workspace: string): string {
  switch (code) {
    case 'ENOSPC':
      return `The disk is full: free space on ${workspace} (df -h ${workspace}); nothing is lost, the sender keeps the data and writing resumes by itself`;
    case 'EDQUOT':
      return `The disk quota is exceeded on ${workspace}: raise the quota or free space; writing resumes by itself`;
    case 'EIO':
      return `I/O error on the device of ${workspace}: check the disk (dmesg); writing is retried`;
    case 'EROFS':
      return `${workspace} is on a read-only filesystem: remount it read-write; writing is retried`;
    case 'EACCES':
    case 'EPERM':
      return `Permission denied: check that the agent's user can write ${workspace} (ls -ld ${workspace}); writing is retried`;
    case 'ENOENT':
    case 'ENOTDIR':
      return `${workspace} (or the file) was removed or is not a directory: recreate it (with mkdir: true qlog recreates it); writing is retried`;
    case 'EMFILE':
    case 'ENFILE':
      return 'Too many open files: lower max_open_files or raise the limit (ulimit -n); writing is retried';
    default:
      return 'Writing is retried; the sender keeps the data meanwhile';
  }
}

export default definePlugin({
  kind: 'output',
  name: 'rotated-file',
  description: 'Writes lines to size-rotated files (service.log, service.log.1 .. .N) in a workspace, exactly once, never outside it.',
  qlog: VERSION_RANGE,
  schema,
  check(o) {
    let file;
    try {
      file = compileTemplate(o.file);
    } catch (e) {
      if (e instanceof TemplateError) return { key: 'file', message: e.message };
      throw e;
    }
    if (file.constant) {
      const r = relativeName(file({ time: 0n, tag: '', body: '', meta: {} }));
      if ('refused' in r) return { key: 'file', message: `expected a file name inside the workspace, found ${JSON.stringify(o.file)}: ${r.refused}` };
    }
    if (o.format === 'template') {
      try {
        compileTemplate(o.template);
      } catch (e) {
        if (e instanceof TemplateError) return { key: 'template', message: e.message };
        throw e;
      }
    }
    return undefined;
  },
  setup(ctx) {
    const o = ctx.options;
    const workspace = resolve(ctx.service.configDir, o.workspace);
    const nameOf = compileTemplate(o.file);
    const fixed = nameOf.constant ? relativeName(nameOf({ time: 0n, tag: '', body: '', meta: {} })) : undefined;
    const fixedRel = fixed && 'rel' in fixed ? fixed.rel : undefined;
    const format = formatter(o.format as Format, o.template);
    // Forwarded plain lines are copied as bytes when the line is what gets written and the
    // file name depends on the tag at most (one name per chunk); sealed units, whose line no
    // format changes, whatever the format.
    const namedByTag = nameOf.keys.every((k) => k === 'tag' || k.startsWith('env:'));
    const copyLines = o.format === 'line' && namedByTag;
    const mode = parseInt(o.mode, 8);
    let stateDir: string | undefined;
    try {
      stateDir = realpathSync(ctx.service.stateDir);
    } catch {
      /* created by the core before setup; nothing to protect otherwise */
    }
    const names = new Map<string, { rel: string } | { refused: string }>();
    const progress = new Map<string, Map<string, Progress>>();
    const refusalsLogged = new Map<string, number>();

    // One log line per kind of failure while it lasts (an episode), and one when writing resumes.
    const episodes = new Map<string, { since: number; failures: number; files: Set<string> }>();
    const onFailure = (w: RotatedFileWriter, err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'ERROR';
      let ep = episodes.get(code);
      if (!ep) {
        ep = { since: Date.now(), failures: 0, files: new Set() };
        episodes.set(code, ep);
        ctx.log.error({ err, file: w.path || w.rel, code }, `${ctx.id}: cannot write ${w.path || w.rel}: ${err.message}. ${hint(err.code, workspace)}`);
      } else {
        ctx.log.debug({ err, file: w.path || w.rel }, `${ctx.id}: still cannot write ${w.rel}: ${err.message}`);
      }
      ep.failures++;
      ep.files.add(w.rel);
    };
    const onSuccess = (w: RotatedFileWriter) => {
      if (!episodes.size) return;
      for (const [code, ep] of episodes) {
        if (!ep.files.delete(w.rel) || ep.files.size) continue;
        episodes.delete(code);
        ctx.log.info(
          { code, failures: ep.failures, ms: Date.now() - ep.since },
          `${ctx.id}: writing resumed (${code} lasted ${((Date.now() - ep.since) / 1000).toFixed(1)} s, ${ep.failures} failed attempts, nothing lost)`,
        );
      }
    };

    const pool = new WriterPool(
      o.max_open_files,
      (rel) =>
        new RotatedFileWriter({
          rel,
          locate: () => confine(workspaceRoot(workspace, o.mkdir), rel, o.mkdir, stateDir),
          statePath: ctx.statePath(stateName(rel)),
          rotateSize: o.rotate_size,
          rotateNum: o.rotate_num,
          compress: o.compress,
          fsync: o.fsync === 'batch',
          mode,
          log: ctx.log,
          counters: ctx.counters,
          onFailure,
          onSuccess,
        }),
      (n) => ctx.counters.set('open_files', n),
    );

    const refuse = (name: string, reason: string, n: number) => {
      ctx.counters.add('refused_records', n);
      const now = Date.now();
      const key = `${reason}\0${name}`;
      if (now - (refusalsLogged.get(key) ?? 0) < REFUSAL_LOG_EVERY_MS) return;
      if (refusalsLogged.size > 1000) refusalsLogged.clear();
      refusalsLogged.set(key, now);
      ctx.log.warn(
        { file: name, reason },
        `${ctx.id}: dropped ${n} record(s) for file ${JSON.stringify(name)}: ${reason} (file names must stay inside ${workspace}; check the tag or the file template)`,
      );
    };

    ctx.hooks.start.tap('rotated-file', () => {
      loadWriterModules();
      try {
        workspaceRoot(workspace, o.mkdir);
      } catch (e) {
        ctx.log.warn(
          { err: e },
          `${ctx.id}: workspace ${workspace} is not usable yet (${(e as Error).message}); ${hint((e as NodeJS.ErrnoException).code, workspace)}`,
        );
      }
    });

    /** The workspace-relative file of a name the template rendered, or why it is refused (cached). */
    const fileNamed = (name: string) => {
      let c = names.get(name);
      if (!c) {
        c = relativeName(name);
        if (names.size >= MAX_NAME_CACHE) names.clear();
        names.set(name, c);
      }
      return c;
    };

    ctx.hooks.flush.tapPromise('rotated-file', async (chunk: Chunk) => {
      const groups = new Map<string, LogRecord[] | readonly EntryBlock[]>();
      let blocks = namedByTag ? entryBlocks(chunk) : undefined;
      if (blocks !== undefined && !copyLines && !blocks.every((b) => b.units !== undefined)) blocks = undefined;
      const blocksRel =
        blocks === undefined ? undefined : (fixedRel ?? (fileNamed(nameOf({ time: 0n, tag: chunk.tag, body: '', meta: {} })) as { rel?: string }).rel);
      if (blocksRel !== undefined) groups.set(blocksRel, blocks!);
      else if (fixedRel !== undefined) groups.set(fixedRel, chunk.records);
      else
        for (const r of chunk.records) {
          const name = nameOf(r);
          const c = fileNamed(name);
          if ('refused' in c) {
            refuse(name, c.refused, 1);
            continue;
          }
          let g = groups.get(c.rel) as LogRecord[] | undefined;
          if (!g) groups.set(c.rel, (g = []));
          g.push(r);
        }
      const prev = progress.get(chunk.id);
      const progs = new Map<string, Progress>();
      let failure: unknown;
      await Promise.all(
        [...groups].map(async ([rel, items]) => {
          const p = prev?.get(rel) ?? { done: 0 };
          progs.set(rel, p);
          const packed = items === blocks;
          let n = items.length;
          if (packed) {
            n = 0;
            for (const b of blocks!) n += b.count;
          }
          try {
            const w = await pool.get(rel);
            await (packed ? w.writeBlocks(blocks!, p) : w.write(items as LogRecord[], format, p));
          } catch (e) {
            if (e instanceof RefusedPath) {
              refuse(rel, e.reason, n - p.done);
              p.done = n;
            } else failure ??= e;
          }
        }),
      );
      if (failure === undefined) {
        if (prev) progress.delete(chunk.id);
        return;
      }
      // Not acked: the core retries this same chunk; lines already written are not written again.
      if (!prev) {
        if (progress.size >= MAX_PROGRESS) progress.delete(progress.keys().next().value!);
        progress.set(chunk.id, progs);
      }
      throw failure;
    });

    ctx.hooks.stop.tapPromise('rotated-file', () => pool.closeAll());
  },
});
