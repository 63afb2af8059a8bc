/**
 * One page of a directory's children, by name, with their total count; the root's listing hides the
 * trash, as cozy-stack's does. The cursor is the last name of the previous page.
 */
import type { Instance } from '../../instances/types.js';
import type { Vfs } from '../vfs.js';
import { FILES_DOCTYPE, ROOT_DIR_ID, TRASH_DIR_ID, type FileDoc } from '../types.js';
import { nextPageQuery, type PageParams } from './params.js';
import type { ContentsPage } from './serialize.js';

/** The children of a directory, counted by the index (the root's trash left out). */
async function countChildren(vfs: Vfs, instance: Instance, dirId: string): Promise<number> {
  const n = await vfs.fs.store(instance).count(FILES_DOCTYPE, { dir_id: dirId });
  return dirId === ROOT_DIR_ID ? n - 1 : n;
}

export async function contentsPage(vfs: Vfs, instance: Instance, dir: FileDoc, page: PageParams): Promise<ContentsPage> {
  const root = dir._id === ROOT_DIR_ID;
  // one more for the root, whose page may hold the trash
  const limit = root ? page.limit + 1 : page.limit;
  const res = await vfs.fs.children(instance, dir._id, page.cursor === undefined ? { limit } : { limit, cursor: page.cursor });
  let docs = res.docs.filter((d) => d._id !== TRASH_DIR_ID);
  let next = res.next;
  if (docs.length > page.limit) {
    docs = docs.slice(0, page.limit);
    next = docs.at(-1)?.name ?? null;
  }
  return { docs, count: await countChildren(vfs, instance, dir._id), next: nextPageQuery(page, next) };
}
