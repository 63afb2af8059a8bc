/**
 * `POST/DELETE /files/:dir-id/relationships/not_synchronized_on`: the OAuth clients that do not
 * synchronize a directory (files/not-synchronized.ts); needs PATCH on the directory. The answer is the
 * list after the change, with the directory's new revision and the count, as cozy-stack.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addNotSynchronizedOn, dirById, removeNotSynchronizedOn } from '../not-synchronized.js';
import { referencesOf } from '../references.js';
import { allowVfs, callerOf } from './access.js';
import type { FilesDeps } from './deps.js';
import { JSONAPI } from './serialize.js';
import * as S from './schemas.js';

type Id = { Params: { id: string } };

export function registerNotSynchronizedRoutes(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;
  const handler = (fn: typeof addNotSynchronizedOn) => async (req: FastifyRequest<Id>, reply: FastifyReply) => {
    const c = await callerOf(perms, req);
    const dir = await dirById(vfs.fs, c.instance, req.params.id);
    await allowVfs(vfs, c, 'PATCH', dir);
    const refs = referencesOf((req.body as { data?: unknown } | undefined)?.data);
    const doc = await fn(vfs.fs, c.instance, dir._id, refs);
    const list = (doc.not_synchronized_on as unknown[] | undefined) ?? [];
    return reply.type(JSONAPI).send({ data: list, meta: { rev: doc._rev, count: list.length } });
  };
  scope.post<Id>('/files/:id/relationships/not_synchronized_on', { schema: S.notSynchronized('OAuth clients that must not synchronize this directory: adds some') }, handler(addNotSynchronizedOn));
  scope.delete<Id>('/files/:id/relationships/not_synchronized_on', { schema: S.notSynchronized('OAuth clients that must not synchronize this directory: removes some') }, handler(removeNotSynchronizedOn));
}
