/**
 * The devices (OAuth clients) that do not synchronize a directory (cozy-stack's
 * docs/not-synchronized-vfs.md): `not_synchronized_on` on the directory document, a list of
 * `{type: "io.cozy.oauth.clients", id}`. Each change is one write of the directory, under the instance lock.
 */
import { NotFound } from '../common/errors.js';
import type { Doc } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import { filesListing, type Reference } from './references.js';
import { FILES_DOCTYPE, isDir, type FileDoc } from './types.js';

const same = (a: Reference, b: Reference) => a.type === b.type && a.id === b.id;

/** The directory `id`, or 404 (a file is not a directory here, as cozy-stack's DirByID). */
export async function dirById(fs: FileSystem, instance: Instance, id: string): Promise<FileDoc> {
  const doc = await fs.stat(instance, id);
  if (!isDir(doc)) throw new NotFound(`no directory ${id.slice(0, 100)}`);
  return doc;
}

async function change(fs: FileSystem, instance: Instance, dirId: string, next: (refs: Reference[]) => Reference[]): Promise<FileDoc> {
  return fs.lock(instance, async () => {
    const dir = await dirById(fs, instance, dirId);
    const refs = next(((dir.not_synchronized_on as Reference[] | undefined) ?? []).map((r) => ({ type: r.type, id: r.id })));
    const at = fs.clock().toISOString();
    const doc: Doc = { ...dir, not_synchronized_on: refs as unknown as Doc[], cozyMetadata: { ...(dir.cozyMetadata as Doc), updatedAt: at } };
    return (await fs.store(instance).put(FILES_DOCTYPE, doc)).doc as FileDoc;
  });
}

export function addNotSynchronizedOn(fs: FileSystem, instance: Instance, dirId: string, refs: Reference[]): Promise<FileDoc> {
  return change(fs, instance, dirId, (cur) => [...cur, ...refs.filter((r, i) => !cur.some((c) => same(c, r)) && refs.findIndex((x) => same(x, r)) === i)]);
}

export function removeNotSynchronizedOn(fs: FileSystem, instance: Instance, dirId: string, refs: Reference[]): Promise<FileDoc> {
  return change(fs, instance, dirId, (cur) => cur.filter((c) => !refs.some((r) => same(c, r))));
}

/** The directories not synchronized on the device `ref` (an OAuth client), by id, `limit` at a time, and how many there are. */
export async function notSynchronizedDirs(fs: FileSystem, instance: Instance, ref: Reference, opts: { limit: number; cursor?: string }): Promise<{ docs: FileDoc[]; next: string | null; total: number }> {
  const page = await filesListing(fs, instance, 'not_synchronized_on', ref, opts);
  const total = await fs.store(instance).count(FILES_DOCTYPE, { not_synchronized_on: { $elemMatch: { type: ref.type, id: ref.id } } });
  return { ...page, total };
}
