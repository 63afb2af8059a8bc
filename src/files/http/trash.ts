/**
 * The trash (/.cozy_trash, id io.cozy.files.trash-dir): GET /files/trash (paginated), POST
 * /files/trash/:id (restore, renamed on conflict), DELETE /files/trash/:id (destroy for good),
 * DELETE /files/trash (empty it). Restoring needs PATCH, destroying DELETE, as in cozy-stack.
 */
import type { FastifyInstance } from 'fastify';
import { TRASH_DIR_ID } from '../types.js';
import { allowVfs, callerOf } from './access.js';
import { contentsPage } from './listing.js';
import { ifMatch, pageParams } from './params.js';
import { JSONAPI, listDocument, single } from './serialize.js';
import type { FilesDeps } from './deps.js';
import * as S from './schemas.js';

type IdParams = { Params: { id: string } };

export function registerTrashRoutes(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;

  scope.get('/files/trash', { schema: S.trashList }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const trash = await vfs.fs.stat(c.instance, TRASH_DIR_ID);
    await allowVfs(vfs, c, 'GET', trash);
    return reply.type(JSONAPI).send(listDocument('/files/trash', await contentsPage(vfs, c.instance, trash, pageParams(req))));
  });

  scope.post<IdParams>('/files/trash/:id', { schema: S.restore }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const doc = await vfs.fs.stat(c.instance, req.params.id);
    await allowVfs(vfs, c, 'PATCH', doc);
    return reply.type(JSONAPI).send(single(await vfs.tree.restore(c.instance, doc._id)));
  });

  scope.delete<IdParams>('/files/trash/:id', { schema: S.destroy }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const doc = await vfs.fs.stat(c.instance, req.params.id);
    await allowVfs(vfs, c, 'DELETE', doc);
    const rev = ifMatch(req);
    await vfs.tree.destroy(c.instance, doc._id, rev);
    return reply.code(204).send();
  });

  scope.delete('/files/trash', { schema: S.emptyTrash }, async (req, reply) => {
    const c = await callerOf(perms, req);
    await allowVfs(vfs, c, 'DELETE', await vfs.fs.stat(c.instance, TRASH_DIR_ID));
    await vfs.tree.emptyTrash(c.instance);
    return reply.code(204).send();
  });
}
