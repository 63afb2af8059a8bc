/**
 * The `zip` worker (cozy-stack's worker/archive): `{files: {"path/in/zip": fileId, …}, dir_id, filename}` creates
 * the archive `filename` in the directory `dir_id`. The zip is streamed by the zip writer straight into the VFS upload
 * (files/archive.ts), so neither it nor the files are held in memory, and the upload's guarantees hold: the
 * quota, and no half archive visible if anything fails. A name already taken fails the job (no renaming).
 */
import { Conflict } from '../../common/errors.js';
import { zipStream } from '../../files/archive.js';
import type { FileDoc } from '../../files/types.js';
import { validateName } from '../../files/types.js';
import type { Vfs } from '../../files/vfs.js';
import { PermanentJobError, type WorkerDef } from '../types.js';
import { CPUS, argString, argsObject, assertJobCreate, checkAborted, jobFileRights, liveFile, permanentIfClientError, type RightsNow } from './common.js';

export interface ZipDeps {
  vfs: Vfs;
  /** The rights of the job's token as they are now (a revoked app keeps none). */
  rightsNow?: RightsNow;
  /** At most this many files in one archive (default 10,000). */
  maxFiles?: number;
}

/** A path inside the zip: relative, "/"-separated, each segment a valid file name (no "", ".", ".."). */
function zipPath(raw: string): string {
  const bad = (why: string) => new PermanentJobError(`zip: the path "${raw.slice(0, 200)}" in "files" ${why}`);
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) throw bad('must be relative');
  if (raw.includes('\\')) throw bad('must use "/" as its separator');
  const segments = raw.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') throw bad('has an empty, "." or ".." segment');
    try {
      validateName(s);
    } catch (err) {
      throw bad(`is refused: ${(err as Error).message}`);
    }
  }
  return segments.map((s) => s.normalize('NFC')).join('/');
}

export function zipWorker(deps: ZipDeps): WorkerDef {
  const maxFiles = deps.maxFiles ?? 10_000;
  return {
    name: 'zip',
    concurrency: CPUS,
    maxExecCount: 2,
    timeoutSeconds: 600,
    async run(ctx) {
      const args = argsObject('zip', ctx.job.message);
      const files = args.files;
      if (typeof files !== 'object' || files === null || Array.isArray(files)) throw new PermanentJobError('zip: "files" must be an object {"path/in/zip": fileId}');
      const dirId = argString('zip', args, 'dir_id');
      const filename = argString('zip', args, 'filename');
      const list = Object.entries(files as Record<string, unknown>);
      if (list.length === 0) throw new PermanentJobError('zip: "files" is empty');
      if (list.length > maxFiles) throw new PermanentJobError(`zip: ${list.length} files, more than the ${maxFiles} an archive may hold`);
      const { fs } = deps.vfs;
      // the job acts with the rights of the token that queued it: it reads and writes only where that token may
      const rights = await jobFileRights(deps.vfs, ctx, deps.rightsNow);
      if (rights) {
        const dir = await fs.stat(ctx.instance, dirId).catch((err: unknown) => { throw permanentIfClientError(err, 'zip: the directory'); });
        await assertJobCreate(rights, dir, { type: 'file', name: filename, mime: 'application/zip', class: 'zip' }, `zip: "${filename.slice(0, 200)}"`);
      }
      // every file is checked before the first byte is written: a missing one (or one the token may not read) fails the job at once
      const entries: Array<{ doc: FileDoc; path: string }> = [];
      const paths = new Set<string>();
      for (const [raw, target] of list) {
        const id = typeof target === 'string' ? target : (target as { id?: unknown } | null)?.id;
        if (typeof id !== 'string' || id === '') throw new PermanentJobError(`zip: the file for "${raw.slice(0, 200)}" must be an id`);
        if (typeof target === 'object' && (target as { page?: unknown }).page !== undefined) throw new PermanentJobError('zip: extracting a page of a PDF ("page") is not supported');
        const path = zipPath(raw);
        if (paths.has(path)) throw new PermanentJobError(`zip: the path "${path}" is given twice`);
        paths.add(path);
        entries.push({ doc: await liveFile(fs, ctx.instance, id, `zip: "${path}"`, rights), path });
      }
      for (const p of paths) {
        for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) {
          if (paths.has(p.slice(0, i))) throw new PermanentJobError(`zip: "${p.slice(0, i)}" cannot be both a file and the directory of "${p}"`);
        }
      }
      checkAborted(ctx.signal);
      const body = zipStream(fs, ctx.instance, (async function* () {
        yield* entries;
      })());
      const stop = () => body.destroy(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('the job was aborted'));
      ctx.signal.addEventListener('abort', stop, { once: true });
      try {
        const doc = await fs.upload(ctx.instance, { dirId, name: filename, body, mime: 'application/zip' });
        ctx.log.info({ file_id: doc._id, files: entries.length, size: Number(doc.size) }, 'zip: archive created');
      } catch (err) {
        body.destroy();
        if (err instanceof Conflict) throw new PermanentJobError(`zip: a file or directory named "${filename}" already exists in ${dirId}`);
        throw permanentIfClientError(err, `zip: cannot create "${filename}"`);
      } finally {
        ctx.signal.removeEventListener('abort', stop);
      }
    },
  };
}
