/**
 * DELETE (RFC 4918 §9.6): files and collections go to the Hearth trash, never destroyed, so the
 * owner can restore them from /files or the Drive app; their locks go. MKCOL (§9.3).
 */
import { ROOT_DIR_ID, parentPath } from '../types.js';
import type { DavRequest } from './context.js';
import { DavError } from './errors.js';
import { hrefOf, nameOf } from './paths.js';

export async function remove(dav: DavRequest): Promise<void> {
  const { path } = dav.target;
  const doc = await dav.resolve(path);
  if (!doc) throw new DavError(404, 'not_found', `nothing at ${hrefOf(path, false)}`);
  if (doc._id === ROOT_DIR_ID) throw new DavError(403, 'forbidden', 'the root cannot be deleted');
  dav.depth('infinity', ['infinity']);
  await dav.rights.assert('DELETE', doc);
  await dav.preconditions(doc);
  await dav.assertUnlocked({ path, deep: true }, { path: parentPath(path) });
  await dav.deps.vfs.tree.trash(dav.instance, doc._id);
  await dav.deps.locks.dropTree(dav.instance.id, path);
  await dav.reply.code(204).send();
}

export async function mkcol(dav: DavRequest): Promise<void> {
  const { path } = dav.target;
  if (dav.hasBody()) throw new DavError(415, 'bad_content_type', 'MKCOL with a body is not supported: send none');
  if (await dav.resolve(path)) throw new DavError(405, 'method_not_allowed', `${hrefOf(path, false)} already exists`, undefined, { Allow: 'OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, COPY, MOVE, LOCK, UNLOCK' });
  const parent = await dav.parentOf(path);
  const name = nameOf(path);
  await dav.rights.assertCreate(parent, { type: 'directory', name });
  await dav.preconditions(null);
  await dav.assertUnlocked({ path: parentPath(path) });
  await dav.fs.createDir(dav.instance, { dirId: parent._id, name });
  await dav.reply.code(201).send();
}
