/**
 * Reading and changing io.cozy.files documents: GET/HEAD /files/:id (a directory with one page of
 * its contents), GET /files/metadata?Path=, GET /files/:id/relationships/contents, PATCH by id or
 * by path (rename, move, tags, executable, to the trash, destroy), DELETE /files/:id (to the trash).
 * A move also needs the right on the destination directory, so that a token limited to a
 * subtree cannot send things out of it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest } from '../../common/errors.js';
import { versionsOf } from '../versions.js';
import type { FileChange } from '../fs.js';
import { isDir, type FileDoc } from '../types.js';
import type { Vfs } from '../vfs.js';
import { allowVfs, callerOf, type Caller } from './access.js';
import { contentsPage } from './listing.js';
import { ifMatch, pageParams, param } from './params.js';
import { parsePatch, type FilePatch } from './patch.js';
import { JSONAPI, dirDocument, listDocument, single, withVersions } from './serialize.js';
import type { FilesDeps } from './deps.js';
import * as S from './schemas.js';

type IdParams = { Params: { id: string } };

/**
 * Applies a parsed PATCH to `doc`, once PATCH on it is allowed (also used by the batch PATCH /files/):
 * destroy, to the trash, or rename/move/tags/executable; returns the document after the change.
 */
export async function applyPatch(vfs: Vfs, c: Caller, doc: FileDoc, p: FilePatch, rev: string | undefined): Promise<FileDoc> {
  if (p.destroy) {
    // in the trash or not, as cozy-stack (cozy-konnector-libs deletes a file it just uploaded this way)
    await vfs.tree.destroy(c.instance, doc._id, rev, { anywhere: true });
    return doc;
  }
  if (p.trash) return vfs.tree.trash(c.instance, doc._id, rev);
  if (p.dirId !== undefined && p.dirId !== doc.dir_id) await allowVfs(vfs, c, 'PATCH', await vfs.fs.stat(c.instance, p.dirId));
  const change: FileChange = {
    ...(p.name === undefined ? {} : { name: p.name }), ...(p.dirId === undefined ? {} : { dirId: p.dirId }),
    ...(p.tags === undefined ? {} : { tags: p.tags }), ...(p.executable === undefined ? {} : { executable: p.executable }),
    ...(rev === undefined ? {} : { ifMatch: rev }),
  };
  return vfs.tree.patch(c.instance, doc._id, change);
}

export function registerMetadataRoutes(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;

  const show = async (c: Caller, doc: FileDoc, req: FastifyRequest, reply: FastifyReply) => {
    await allowVfs(vfs, c, 'GET', doc);
    const body = isDir(doc) ? dirDocument(doc, await contentsPage(vfs, c.instance, doc, pageParams(req))) : withVersions(doc, await versionsOf(vfs.fs, c.instance, doc._id));
    return reply.type(JSONAPI).send(body);
  };

  const patch = async (c: Caller, doc: FileDoc, req: FastifyRequest, reply: FastifyReply) => {
    const p = parsePatch(req.body);
    const rev = ifMatch(req);
    await allowVfs(vfs, c, 'PATCH', doc);
    return reply.type(JSONAPI).send(single(await applyPatch(vfs, c, doc, p, rev)));
  };

  scope.get('/files/metadata', { schema: S.metadata }, async (req, reply) => {
    const c = await callerOf(perms, req);
    return show(c, await vfs.fs.statByPath(c.instance, param(req, 'Path')), req, reply);
  });
  scope.patch('/files/metadata', { schema: S.patchByPath }, async (req, reply) => {
    const c = await callerOf(perms, req);
    return patch(c, await vfs.fs.statByPath(c.instance, param(req, 'Path')), req, reply);
  });

  // HEAD first: it only says whether the document exists and may be read
  scope.head<IdParams>('/files/:id', { schema: S.head }, async (req, reply) => {
    const c = await callerOf(perms, req);
    await allowVfs(vfs, c, 'GET', await vfs.fs.stat(c.instance, req.params.id));
    return reply.code(200).send();
  });
  scope.get<IdParams>('/files/:id', { exposeHeadRoute: false, schema: S.get }, async (req, reply) => {
    const c = await callerOf(perms, req);
    return show(c, await vfs.fs.stat(c.instance, req.params.id), req, reply);
  });
  scope.get<IdParams>('/files/:id/relationships/contents', { schema: S.contents }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const dir = await vfs.fs.stat(c.instance, req.params.id);
    await allowVfs(vfs, c, 'GET', dir);
    if (!isDir(dir)) throw new BadRequest('a file has no contents: only directories do', 'not_a_directory');
    const page = await contentsPage(vfs, c.instance, dir, pageParams(req));
    return reply.type(JSONAPI).send(listDocument(`/files/${dir._id}/relationships/contents`, page));
  });
  scope.patch<IdParams>('/files/:id', { schema: S.patch }, async (req, reply) => {
    const c = await callerOf(perms, req);
    return patch(c, await vfs.fs.stat(c.instance, req.params.id), req, reply);
  });
  scope.delete<IdParams>('/files/:id', { schema: S.trash }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const doc = await vfs.fs.stat(c.instance, req.params.id);
    await allowVfs(vfs, c, 'PATCH', doc);
    return reply.type(JSONAPI).send(single(await vfs.tree.trash(c.instance, doc._id, ifMatch(req))));
  });
}
