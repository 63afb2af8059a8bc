/**
 * `POST/DELETE /files/:dir-id/relationships/not_synchronized_on`: the OAuth clients that do not
 * synchronize a directory (files/not-synchronized.ts); needs PATCH on the directory. The answer is the
 * list after the change, with the directory's new revision and the count, as cozy-stack.
 * From the device's side, `GET/POST/DELETE /data/:doctype/:docid/relationships/not_synchronizing` list,
 * add and remove its directories (cozy-stack's web/files/notsynchronized.go): a right on the device's
 * document (GET, PUT, DELETE), or GET (to list) / PATCH (to change) on the whole io.cozy.files; with the
 * device's right alone, each directory also needs PATCH.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest } from '../../common/errors.js';
import type { Verb } from '../../permissions/rules.js';
import { addNotSynchronizedOn, dirById, notSynchronizedDirs, removeNotSynchronizedOn } from '../not-synchronized.js';
import { referencesOf, type Reference } from '../references.js';
import { FILES_DOCTYPE, isDir, type FileDoc } from '../types.js';
import { param, relationsPage } from './params.js';
import { allowRefs } from './relations.js';
import { allowVfs, callerOf } from './access.js';
import type { FilesDeps } from './deps.js';
import { JSONAPI, resource } from './serialize.js';
import * as S from './schemas.js';

type Id = { Params: { id: string } };
type DocRef = { Params: { doctype: string; docid: string } };

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

  // ---- from the device's side ----
  scope.get<DocRef>('/data/:doctype/:docid/relationships/not_synchronizing', { schema: S.notSynchronizing }, async (req, reply) => {
    const c = await callerOf(perms, req);
    allowRefs(c, 'GET', 'GET', req.params.doctype, req.params.docid);
    const device: Reference = { type: req.params.doctype, id: req.params.docid };
    const page = await notSynchronizedDirs(vfs.fs, c.instance, device, relationsPage(req));
    const body: Record<string, unknown> = { data: page.docs.map((d) => ({ type: FILES_DOCTYPE, id: d._id })), meta: { count: page.total } };
    if (param(req, 'include') === 'files') body.included = page.docs.map(resource);
    if (page.next) body.links = { next: `/data/${req.params.doctype}/${encodeURIComponent(req.params.docid)}/relationships/not_synchronizing?page[cursor]=${encodeURIComponent(page.next)}` };
    return reply.type(JSONAPI).send(body);
  });
  const fromDevice = (fn: typeof addNotSynchronizedOn, verb: Verb) => async (req: FastifyRequest<DocRef>, reply: FastifyReply) => {
    const c = await callerOf(perms, req);
    const byFiles = allowRefs(c, verb, 'PATCH', req.params.doctype, req.params.docid);
    const device: Reference = { type: req.params.doctype, id: req.params.docid };
    // every directory is checked before any changes
    const dirs: FileDoc[] = [];
    for (const ref of referencesOf((req.body as { data?: unknown } | undefined)?.data)) {
      const doc = await vfs.fs.stat(c.instance, ref.id);
      if (!isDir(doc)) throw new BadRequest('Cannot add not_synchronized_on on files');
      if (!byFiles) await allowVfs(vfs, c, 'PATCH', doc);
      dirs.push(doc);
    }
    for (const dir of dirs) await fn(vfs.fs, c.instance, dir._id, [device]);
    return reply.code(204).send();
  };
  scope.post<DocRef>('/data/:doctype/:docid/relationships/not_synchronizing', { schema: S.changeNotSynchronizing('Directories this device must not synchronize: adds some') }, fromDevice(addNotSynchronizedOn, 'PUT'));
  scope.delete<DocRef>('/data/:doctype/:docid/relationships/not_synchronizing', { schema: S.changeNotSynchronizing('Directories this device must not synchronize: removes some') }, fromDevice(removeNotSynchronizedOn, 'DELETE'));
}
