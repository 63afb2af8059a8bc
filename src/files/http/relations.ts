/**
 * What links files to other things, over HTTP as cozy-stack: copies (`POST /files/:id/copy`, also of a directory), old
 * versions (`GET /files/download/:id/:version-id`, `POST /files/revert/:id/:version-id`, the
 * `old_versions` of a file), and references between documents and files (docs/references-docs-in-vfs.md):
 * `POST/DELETE /files/:id/relationships/referenced_by` and `GET/POST/DELETE
 * /data/:doctype/:id/relationships/references`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Doc } from '../../data/store.js';
import { Forbidden, NotFound } from '../../common/errors.js';
import { validateDoctype } from '../../data/doctype.js';
import { Permissions, docFetcher, type Verb } from '../../permissions/rules.js';
import { copyFile, planDirCopy } from '../copy.js';
import { streamDirCopy, wantsProgress } from './copy-progress.js';
import { addReferences, referencedFiles, referencesOf, removeReferences, type Reference } from '../references.js';
import { versionsOf } from '../versions.js';
import { FILES_DOCTYPE, isDir } from '../types.js';
import { allowCreate, allowVfs, appSlugOf, callerOf, type Caller } from './access.js';
import type { FilesDeps } from './deps.js';
import { sendContent } from './download.js';
import { param, relationsPage } from './params.js';
import { JSONAPI, resource, single } from './serialize.js';
import * as S from './schemas.js';

type Id = { Params: { id: string } };
type Version = { Params: { id: string; version: string } };
type DocRef = { Params: { doctype: string; docid: string } };

/**
 * The caller may list (GET) or change (PUT, DELETE) the references of the document `type/id`, as cozy-stack's
 * web/files/references.go: with `verb` on that document, or with `filesVerb` on the whole io.cozy.files (what a
 * konnector has, to find its folders by `io.cozy.konnectors/<slug>`). Returns whether the files' right decided.
 */
export function allowRefs(c: Caller, verb: Verb, filesVerb: Verb, type: string, id: string): boolean {
  if (Permissions.allowsDoc(c.set, verb, validateDoctype(type), docFetcher({ _id: id }))) return false;
  if (Permissions.allowsWholeType(c.set, filesVerb, FILES_DOCTYPE)) return true;
  throw new Forbidden(`this token has no ${verb} right on the document ${type}/${id.slice(0, 100)}, nor ${filesVerb} on the whole io.cozy.files`);
}

export function registerRelationRoutes(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;

  scope.post<Id>('/files/:id/copy', { schema: S.copy }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const src = await vfs.fs.stat(c.instance, req.params.id);
    await allowVfs(vfs, c, 'GET', src);
    const dir = await vfs.fs.dir(c.instance, param(req, 'DirID') ?? src.dir_id);
    const draft: Doc = isDir(src) ? { type: 'directory', name: src.name, tags: src.tags } : { type: 'file', name: src.name, mime: String(src.mime), class: String(src.class), tags: src.tags };
    await allowCreate(vfs, c, dir, draft);
    const name = param(req, 'Name');
    const app = appSlugOf(c.set);
    const to = { dirId: dir._id, ...(name === undefined ? {} : { name }), ...(app ? { app } : {}) };
    // cozy-stack copies files only; a directory is copied with its subtree, all or nothing (copy.ts)
    if (!isDir(src)) return reply.code(201).type(JSONAPI).send(single(await copyFile(vfs.fs, c.instance, src._id, to)));
    const plan = await planDirCopy(vfs.tree, vfs.fs, c.instance, src._id, to, vfs.copies); // the refusals (quota, name…) before anything starts
    if (!wantsProgress(req)) return reply.code(201).type(JSONAPI).send(single(await plan.run()));
    return streamDirCopy(req, reply, plan);
  });

  // ---- versions ----
  const versionOf = async (c: Caller, req: FastifyRequest<Version>) => {
    const file = await vfs.fs.stat(c.instance, req.params.id);
    const id = req.params.version.includes('/') ? req.params.version : `${file._id}/${req.params.version}`;
    const v = (await versionsOf(vfs.fs, c.instance, file._id)).find((x) => x._id === id);
    if (!v) throw new NotFound(`no version ${req.params.version.slice(0, 100)} of this file`);
    return { file, v };
  };
  const downloadVersion = async (req: FastifyRequest<Version>, reply: FastifyReply) => {
    const c = await callerOf(perms, req);
    const { file, v } = await versionOf(c, req);
    await allowVfs(vfs, c, 'GET', file);
    return sendContent(vfs, c.instance, { ...file, size: v.size, md5sum: v.md5sum, internal_vfs_id: v.internal_vfs_id, updated_at: v.updated_at }, req, reply);
  };
  scope.head<Version>('/files/download/:id/:version', { schema: S.downloadVersion }, downloadVersion);
  scope.get<Version>('/files/download/:id/:version', { exposeHeadRoute: false, schema: S.downloadVersion }, downloadVersion);
  scope.post<Version>('/files/revert/:id/:version', { schema: S.revert }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const { file, v } = await versionOf(c, req);
    await allowVfs(vfs, c, 'PUT', file);
    return reply.type(JSONAPI).send(single(await vfs.fs.revert(c.instance, file._id, v._id)));
  });

  // ---- references, from the file's side ----
  const changeRefs = (fn: typeof addReferences) => async (req: FastifyRequest<Id>, reply: FastifyReply) => {
    const c = await callerOf(perms, req);
    const file = await vfs.fs.stat(c.instance, req.params.id);
    if (isDir(file)) throw new Forbidden('directories carry no references');
    await allowVfs(vfs, c, 'PUT', file);
    const refs = referencesOf((req.body as { data?: unknown } | undefined)?.data);
    const doc = await fn(vfs.fs, c.instance, file._id, refs);
    return reply.type(JSONAPI).send({ data: doc.referenced_by ?? [], meta: { rev: doc._rev, count: (doc.referenced_by as unknown[] | undefined)?.length ?? 0 } });
  };
  scope.post<Id>('/files/:id/relationships/referenced_by', { schema: S.referencedBy('Adds documents that reference this file') }, changeRefs(addReferences));
  scope.delete<Id>('/files/:id/relationships/referenced_by', { schema: S.referencedBy('Removes documents that reference this file') }, changeRefs(removeReferences));

  // ---- references, from the document's side ----
  scope.get<DocRef>('/data/:doctype/:docid/relationships/references', { schema: S.references }, async (req, reply) => {
    const c = await callerOf(perms, req);
    allowRefs(c, 'GET', 'GET', req.params.doctype, req.params.docid);
    const page = await referencedFiles(vfs.fs, c.instance, { type: req.params.doctype, id: req.params.docid }, relationsPage(req));
    const body: Record<string, unknown> = { data: page.docs.map((d) => ({ type: FILES_DOCTYPE, id: d._id })), included: page.docs.map(resource), meta: { count: page.docs.length } };
    if (page.next) body.links = { next: `/data/${req.params.doctype}/${encodeURIComponent(req.params.docid)}/relationships/references?page[cursor]=${encodeURIComponent(page.next)}` };
    return reply.type(JSONAPI).send(body);
  });
  const fromDoc = (fn: typeof addReferences, verb: Verb) => async (req: FastifyRequest<DocRef>, reply: FastifyReply) => {
    const c = await callerOf(perms, req);
    // PATCH on the whole io.cozy.files covers every file; a right on the document alone still needs PUT on each file
    const byFiles = allowRefs(c, verb, 'PATCH', req.params.doctype, req.params.docid);
    const ref: Reference = { type: req.params.doctype, id: req.params.docid };
    const files = referencesOf((req.body as { data?: unknown } | undefined)?.data);
    for (const f of files) {
      if (f.type !== FILES_DOCTYPE) throw new Forbidden(`only io.cozy.files can be referenced by a document, not ${f.type}`);
      const file = await vfs.fs.stat(c.instance, f.id);
      if (!byFiles) await allowVfs(vfs, c, 'PUT', file);
      await fn(vfs.fs, c.instance, file._id, [ref]);
    }
    return reply.code(204).send();
  };
  scope.post<DocRef>('/data/:doctype/:docid/relationships/references', { schema: S.changeReferences('Makes files reference this document') }, fromDoc(addReferences, 'PUT'));
  scope.delete<DocRef>('/data/:doctype/:docid/relationships/references', { schema: S.changeReferences('Removes references from files to this document') }, fromDoc(removeReferences, 'DELETE'));
}
