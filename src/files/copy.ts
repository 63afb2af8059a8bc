/**
 * Copies (cozy-stack's POST /files/:id/copy, WebDAV COPY): a file's bytes are streamed from its
 * blob into a new one, as an upload, with the same checks (quota, names) and write order.
 * Without a name, cozy-stack names the copy "name (copy).ext" (then "(copy 2)"…, if taken).
 * cozy-stack copies files only; Hearth also copies a directory with its whole subtree (planDirCopy): bounded by the
 * quota before it starts, with its progress, cancellable, made under a name that says it is incomplete until it is whole.
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import { Conflict, NotFound, PayloadTooLarge, UnprocessableEntity } from '../common/errors.js';
import type { Instance } from '../instances/types.js';
import type { CopyJournal } from './copy-journal.js';
import type { FileSystem } from './fs.js';
import { subtreeTotals } from './size.js';
import type { FileTree } from './tree.js';
import { ROOT_DIR_ID, TRASH_DIR_ID, isDir, validateName, type FileDoc } from './types.js';

const PAGE = 200;

function copyName(name: string, n: number, file: boolean): string {
  const dot = file ? name.lastIndexOf('.') : -1;
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${base} (copy${n === 1 ? '' : ` ${n}`})${ext}`;
}

/** The name given (validated), or the first free "name (copy)" in `dirId`. */
async function nameOfCopy(fs: FileSystem, instance: Instance, src: FileDoc, dirId: string, name: string | undefined): Promise<string> {
  if (name !== undefined) return validateName(name);
  for (let n = 1; ; n++) {
    const candidate = copyName(src.name, n, !isDir(src));
    if (!(await fs.child(instance, dirId, candidate))) return candidate;
  }
}

/** How a copy's bytes are followed: `onBytes` hears each chunk as it is read (and is awaited), an aborted `signal` stops it. */
interface Follow { onBytes?: (n: number) => void | Promise<void>; signal?: AbortSignal }

/** `body` as it is read, through `follow`. */
function followed(body: Readable, follow: Follow): Readable {
  const { onBytes, signal } = follow;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (signal?.aborted) return done(signal.reason as Error);
      const heard = onBytes?.(chunk.length);
      if (heard instanceof Promise) heard.then(() => done(null, chunk), done);
      else done(null, chunk);
    },
  });
  return pipeline(body, counter, () => undefined); // an error on either side destroys both; the upload sees it
}

export async function copyFile(fs: FileSystem, instance: Instance, id: string, to: { dirId?: string; name?: string; app?: string } = {}, follow: Follow = {}): Promise<FileDoc> {
  const src = await fs.stat(instance, id);
  if (isDir(src)) throw new UnprocessableEntity('only files are copied this way: create the directory, then copy its files', 'not_a_file');
  const dirId = to.dirId ?? src.dir_id;
  const name = await nameOfCopy(fs, instance, src, dirId, to.name);
  const source = await fs.open(instance, src);
  const body = follow.onBytes || follow.signal ? followed(source, follow) : source;
  try {
    return await fs.upload(instance, {
      dirId, name, body, size: Number(src.size), md5: String(src.md5sum), mime: String(src.mime), tags: [...src.tags],
      executable: src.executable === true, ...(to.app ? { app: to.app } : {}),
    });
  } catch (err) {
    body.destroy();
    if (err instanceof Conflict) throw new Conflict(`a file named "${name}" already exists there`);
    throw err;
  }
}

/** Where a directory copy stands: the files copied so far, and the bytes copied (those of the file under way included). */
export interface CopyProgress { files: number; bytes: number }
/** `onProgress` is awaited: a slow listener (a slow client) slows the copy down, never the other way round. */
interface RunOptions { onProgress?: (p: CopyProgress) => void | Promise<void>; signal?: AbortSignal }

/** Re-creates the children of `from` in `into`, depth first: files streamed by copyFile, directories made then filled. */
async function copyChildren(fs: FileSystem, instance: Instance, from: FileDoc, into: FileDoc, app: string | undefined, done: CopyProgress, o: RunOptions): Promise<void> {
  for (let cursor: string | undefined; ;) {
    const page = await fs.children(instance, from._id, { limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    for (const child of page.docs) {
      o.signal?.throwIfAborted();
      if (!isDir(child)) {
        const before = done.bytes;
        const onBytes = (n: number) => {
          done.bytes += n;
          return o.onProgress?.({ ...done });
        };
        await copyFile(fs, instance, child._id, { dirId: into._id, name: child.name, ...(app ? { app } : {}) }, { onBytes, ...(o.signal ? { signal: o.signal } : {}) });
        done.files++;
        done.bytes = before + Number(child.size ?? 0);
        await o.onProgress?.({ ...done });
        continue;
      }
      const dir = await fs.createDir(instance, { dirId: into._id, name: child.name, tags: [...child.tags], ...(app ? { app } : {}) });
      await copyChildren(fs, instance, child, dir, app, done, o);
    }
    if (page.next === null) return;
    cursor = page.next;
  }
}

const INCOMPLETE = ' (incomplete copy)';

/**
 * The name the copy has while it is made: "<name> (incomplete copy)" (then "… 2"…, if taken), so that a copy cut by a
 * crash stays clearly named for what it is; it gets its real name once whole. The name is shortened to stay within
 * 255 bytes.
 */
async function workingName(fs: FileSystem, instance: Instance, dirId: string, name: string): Promise<string> {
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? INCOMPLETE : `${INCOMPLETE.slice(0, -1)} ${n})`;
    let base = name;
    while (Buffer.byteLength(base + suffix) > 255) base = [...base].slice(0, -1).join('');
    const candidate = base + suffix;
    if (!(await fs.child(instance, dirId, candidate))) return candidate;
  }
}

/** A directory copy checked and sized, not started yet: `run` makes it. */
export interface DirCopy {
  /** What the copy will hold: its files and their bytes. */
  totals: CopyProgress;
  /**
   * Makes the copy; `onProgress` hears each chunk read and each file copied; an aborted `signal` stops it, within a file
   * too (and removes what was copied).
   */
  run(o?: RunOptions): Promise<FileDoc>;
}

/**
 * Checks a copy of a directory and its whole subtree into `to.dirId` (default: beside it, as "name (copy)"): never the
 * root nor the trash, never into itself or one of its subdirectories, a free name, and room under the quota for all
 * its files (413 before anything is copied). All or nothing: when a member fails (a lost content, the quota reached
 * meanwhile, a cancel…), what was already copied is deleted for good and the error is thrown; with a `journal`, a copy
 * cut by the death of its process is undone by a process (this one restarted, or another) once its lease ended
 * (copy-journal.ts).
 */
export async function planDirCopy(
  tree: FileTree, fs: FileSystem, instance: Instance, id: string, to: { dirId?: string; name?: string; app?: string } = {}, journal: CopyJournal | null = null,
): Promise<DirCopy> {
  const src = await fs.stat(instance, id);
  if (!isDir(src)) throw new UnprocessableEntity('not a directory', 'not_a_directory');
  if (src._id === ROOT_DIR_ID || src._id === TRASH_DIR_ID) throw new UnprocessableEntity('the root and the trash cannot be copied', 'invalid_copy');
  const parent = await fs.target(instance, to.dirId ?? src.dir_id);
  if (parent._id === src._id || String(parent.path).startsWith(`${String(src.path)}/`)) {
    throw new UnprocessableEntity('a directory cannot be copied into itself or one of its subdirectories', 'invalid_copy');
  }
  const name = await nameOfCopy(fs, instance, src, parent._id, to.name);
  await fs.assertFreeName(instance, parent._id, name);
  const totals = await subtreeTotals(fs, instance, src);
  const room = await fs.room(instance);
  if (totals.bytes > room) {
    throw new PayloadTooLarge(`the copy needs ${totals.bytes} bytes (${totals.files} files) and only ${room} bytes are left of the quota: free some space or copy less`);
  }
  const app = to.app;
  return {
    totals,
    async run(o: RunOptions = {}) {
      const working = await workingName(fs, instance, parent._id, name);
      const entry = await journal?.begin({ instanceId: instance.id, domain: instance.domain, parentId: parent._id, workingName: working });
      let top: FileDoc;
      try {
        top = await fs.createDir(instance, { dirId: parent._id, name: working, tags: [...src.tags], ...(app ? { app } : {}) });
        await entry?.made(top._id);
      } catch (err) {
        await entry?.end();
        throw err;
      }
      // a lease taken over (this process was thought dead, and another one undoes the copy) stops it too
      const signal = entry ? (o.signal ? AbortSignal.any([o.signal, entry.lost]) : entry.lost) : o.signal;
      try {
        await copyChildren(fs, instance, src, top, app, { files: 0, bytes: 0 }, { ...o, ...(signal ? { signal } : {}) });
        signal?.throwIfAborted();
        // the name was free when checked; taken meanwhile, an automatic name moves on to the next free one
        return await tree.patch(instance, top._id, { name }).catch(async (err: unknown) => {
          if (!(err instanceof Conflict) || to.name !== undefined) throw err;
          return tree.patch(instance, top._id, { name: await nameOfCopy(fs, instance, src, parent._id, undefined) });
        });
      } catch (err) {
        // gone already when the process that took the lease over removed it first
        await tree.destroy(instance, top._id, undefined, { anywhere: true }).catch((e: unknown) => {
          if (!(e instanceof NotFound)) throw e;
        });
        throw err;
      } finally {
        await entry?.end();
      }
    },
  };
}
