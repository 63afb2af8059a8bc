/**
 * COPY and MOVE (RFC 4918 §9.8, §9.9). MOVE is a rename or move of the document (FileTree.patch:
 * a collection moves with its subtree, in one transaction). COPY streams each file blob to blob
 * (copy.ts, with the quota) and re-creates collections, Depth 0 or infinity; dead properties are
 * copied. With Overwrite: T an existing destination first goes to the trash (so it can be restored);
 * Overwrite: F answers 412. Locks never follow: those on a moved source go (§7.5).
 */
import { copyFile } from '../copy.js';
import { isDir, parentPath, type FileDoc } from '../types.js';
import type { DavRequest } from './context.js';
import { DavError } from './errors.js';
import { hrefOf, nameOf, within } from './paths.js';
import { deadPropsOf, patchDeadProps } from './props.js';

const PAGE = 200;

async function copyProps(dav: DavRequest, from: FileDoc, to: FileDoc): Promise<void> {
  const props = deadPropsOf(from);
  if (Object.keys(props).length) await patchDeadProps(dav.deps.vfs, dav.instance, to._id, () => props);
}

async function copyInto(dav: DavRequest, src: FileDoc, dirId: string, name: string, deep: boolean): Promise<void> {
  const { fs } = dav;
  if (!isDir(src)) {
    await copyProps(dav, src, await copyFile(fs, dav.instance, src._id, { dirId, name }));
    return;
  }
  const dir = await fs.createDir(dav.instance, { dirId, name, tags: [...src.tags] });
  await copyProps(dav, src, dir);
  if (!deep) return;
  for (let cursor: string | undefined; ;) {
    const page = await fs.children(dav.instance, src._id, { limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    for (const child of page.docs) await copyInto(dav, child, dir._id, child.name, true);
    if (page.next === null) return;
    cursor = page.next;
  }
}

export async function copyOrMove(dav: DavRequest, move: boolean): Promise<void> {
  const from = dav.target.path;
  const src = await dav.resolve(from);
  if (!src) throw new DavError(404, 'not_found', `nothing at ${hrefOf(from, false)}`);
  const dest = dav.destination();
  const to = dest.path;
  if (dest.hidden) throw new DavError(403, 'forbidden', 'the trash cannot be written over WebDAV: DELETE moves things there');
  if (to === from) throw new DavError(403, 'forbidden', 'the source and the destination are the same');
  if (within(to, from)) throw new DavError(403, 'forbidden', 'a collection cannot be copied or moved into itself');
  if (within(from, to)) throw new DavError(403, 'forbidden', 'the destination holds the source: it cannot be overwritten');
  const depth = isDir(src) ? dav.depth('infinity', move ? ['infinity'] : ['0', 'infinity']) : 'infinity';
  const overwrite = dav.overwrite();
  const parent = await dav.parentOf(to);
  const existing = await dav.resolve(to);
  if (existing && !overwrite) throw new DavError(412, 'precondition_failed', `${hrefOf(to, isDir(existing))} exists and Overwrite is F`);
  await dav.rights.assert(move ? 'PATCH' : 'GET', src);
  // a rename in place creates nothing: PATCH on the source is enough
  if (!move || parent._id !== src.dir_id) await dav.rights.assertCreate(parent, { type: src.type, name: nameOf(to) });
  if (existing) await dav.rights.assert('DELETE', existing);
  await dav.preconditions(src);
  await dav.assertUnlocked(
    ...(move ? [{ path: from, deep: true }, { path: parentPath(from) }] : []),
    ...(existing ? [{ path: to, deep: true }] : []),
    { path: parentPath(to) },
  );
  if (existing) {
    await dav.deps.vfs.tree.trash(dav.instance, existing._id);
    await dav.deps.locks.dropTree(dav.instance.id, to);
  }
  if (move) {
    await dav.deps.vfs.tree.patch(dav.instance, src._id, { name: nameOf(to), dirId: parent._id });
    await dav.deps.locks.dropTree(dav.instance.id, from);
  } else {
    await copyInto(dav, src, parent._id, nameOf(to), depth === 'infinity');
  }
  await dav.reply.code(existing ? 204 : 201).send();
}
