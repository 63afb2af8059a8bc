/**
 * References between documents and files (cozy-stack's docs/references-docs-in-vfs.md): a file's
 * `referenced_by` lists `{type, id}` of documents (an album, a playlist…); the files a document
 * references are found by that field. Each change is one write of the file, under the instance lock.
 */
import { BadRequest } from '../common/errors.js';
import type { Doc } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import { FILES_DOCTYPE, type FileDoc } from './types.js';

export interface Reference {
  type: string;
  id: string;
}

/** `[{type, id}]` from a JSON-API `data` (an object or an array), checked. */
export function referencesOf(data: unknown): Reference[] {
  const list = Array.isArray(data) ? data : [data];
  return list.map((r) => {
    const ref = r as Partial<Reference> | null;
    if (!ref || typeof ref.type !== 'string' || typeof ref.id !== 'string' || !ref.type || !ref.id) {
      throw new BadRequest('each reference is {"type": "<doctype>", "id": "<document id>"}');
    }
    return { type: ref.type, id: ref.id };
  });
}

const same = (a: Reference, b: Reference) => a.type === b.type && a.id === b.id;

async function change(fs: FileSystem, instance: Instance, fileId: string, next: (refs: Reference[]) => Reference[]): Promise<FileDoc> {
  return fs.lock(instance, async () => {
    const file = await fs.stat(instance, fileId);
    const refs = next(((file.referenced_by as Reference[] | undefined) ?? []).map((r) => ({ type: r.type, id: r.id })));
    const at = fs.clock().toISOString();
    const doc: Doc = { ...file, referenced_by: refs as unknown as Doc[], cozyMetadata: { ...(file.cozyMetadata as Doc), updatedAt: at } };
    return (await fs.store(instance).put(FILES_DOCTYPE, doc)).doc as FileDoc;
  });
}

export function addReferences(fs: FileSystem, instance: Instance, fileId: string, refs: Reference[]): Promise<FileDoc> {
  return change(fs, instance, fileId, (cur) => [...cur, ...refs.filter((r, i) => !cur.some((c) => same(c, r)) && refs.findIndex((x) => same(x, r)) === i)]);
}

export function removeReferences(fs: FileSystem, instance: Instance, fileId: string, refs: Reference[]): Promise<FileDoc> {
  return change(fs, instance, fileId, (cur) => cur.filter((c) => !refs.some((r) => same(c, r))));
}

/** The files that reference a document, by id, `limit` at a time (`cursor`: the last id of the previous page). */
export function referencedFiles(fs: FileSystem, instance: Instance, ref: Reference, opts: { limit: number; cursor?: string }): Promise<{ docs: FileDoc[]; next: string | null }> {
  return filesListing(fs, instance, 'referenced_by', ref, opts);
}

/** The files whose list `field` (referenced_by, not_synchronized_on) holds `ref`, by id, `limit` at a time. */
export async function filesListing(fs: FileSystem, instance: Instance, field: string, ref: Reference, opts: { limit: number; cursor?: string }): Promise<{ docs: FileDoc[]; next: string | null }> {
  await fs.init(instance);
  const selector: Record<string, unknown> = { [field]: { $elemMatch: { type: ref.type, id: ref.id } } };
  if (opts.cursor !== undefined) selector._id = { $gt: opts.cursor };
  const res = await fs.store(instance).find(FILES_DOCTYPE, { selector, sort: [{ field: '_id', dir: 'asc' }], limit: opts.limit + 1, skip: 0 });
  const docs = res.docs.slice(0, opts.limit) as FileDoc[];
  return { docs, next: res.docs.length > opts.limit ? (docs.at(-1)?._id ?? null) : null };
}
