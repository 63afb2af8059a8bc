/**
 * Changing old versions over HTTP, as cozy-stack: `POST /files/:file-id/versions` (a new version with
 * the same content and new metadata; PUT on the file), `PATCH /files/:file-id/:version-id` (its tags;
 * PATCH on the file), `DELETE /files/:file-id/:version-id` (one version and its blob; DELETE on the
 * file) and `DELETE /files/versions` (every old version of the instance; a whole-type DELETE right).
 * Downloading and reverting are in relations.ts.
 */
import type { FastifyInstance } from 'fastify';
import { BadRequest, Conflict, Forbidden } from '../../common/errors.js';
import type { Doc } from '../../data/store.js';
import { Permissions } from '../../permissions/rules.js';
import { clearVersions, copyVersion, deleteVersion, findVersion, tagVersion, versionsOf } from '../versions.js';
import { FILES_DOCTYPE, isDir } from '../types.js';
import { allowVfs, appSlugOf, callerOf, type Caller } from './access.js';
import type { FilesDeps } from './deps.js';
import { tagsParam } from './params.js';
import { JSONAPI, versionResource, withVersions } from './serialize.js';
import * as S from './schemas.js';

type Id = { Params: { id: string } };
type Version = { Params: { id: string; version: string } };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `data.attributes` of a JSON-API body (the metadata object, or the version's new fields). */
export function attributesOf(body: unknown, example: string): Doc {
  const data = isObject(body) ? body.data : undefined;
  const attributes = isObject(data) ? (data.attributes ?? {}) : undefined;
  if (!isObject(attributes)) throw new BadRequest(`send a JSON-API body: {"data": {"type": "${example}", "attributes": {…}}}`, 'bad_json');
  return attributes as Doc;
}

export function registerVersionRoutes(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;

  /** The file (not a directory: 409, as cozy-stack) whose version is changed, once `verb` is allowed on it. */
  const fileFor = async (c: Caller, id: string, verb: 'PATCH' | 'DELETE') => {
    const file = await vfs.fs.stat(c.instance, id);
    if (isDir(file)) throw new Conflict('a directory has no versions');
    await allowVfs(vfs, c, verb, file);
    return file;
  };

  scope.post<Id>('/files/:id/versions', { schema: S.newVersion }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const file = await vfs.fs.stat(c.instance, req.params.id);
    if (isDir(file)) throw new BadRequest('cannot create versions for directories', 'not_a_file');
    await allowVfs(vfs, c, 'PUT', file);
    const metadata = attributesOf(req.body, 'io.cozy.files.metadata');
    const app = appSlugOf(c.set);
    const doc = await copyVersion(vfs.fs, c.instance, file._id, { metadata, tags: tagsParam(req) ?? [], ...(app ? { app } : {}) });
    return reply.type(JSONAPI).send(withVersions(doc, await versionsOf(vfs.fs, c.instance, doc._id)));
  });

  scope.patch<Version>('/files/:id/:version', { schema: S.patchVersion }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const file = await fileFor(c, req.params.id, 'PATCH');
    await findVersion(vfs.fs, c.instance, file._id, req.params.version); // 404 before a 400 on the body
    const tags = attributesOf(req.body, 'io.cozy.files.versions').tags;
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new BadRequest('data.attributes.tags must be an array of strings', 'bad_json');
    const v = await tagVersion(vfs.fs, c.instance, file._id, req.params.version, tags as string[]);
    return reply.type(JSONAPI).send({ data: versionResource(v) });
  });

  scope.delete('/files/versions', { schema: S.deleteVersions }, async (req, reply) => {
    const c = await callerOf(perms, req);
    if (!Permissions.allowsWholeType(c.set, 'DELETE', FILES_DOCTYPE)) throw new Forbidden('deleting every old version needs a DELETE right on the whole io.cozy.files doctype');
    await clearVersions(vfs.fs, c.instance);
    return reply.code(204).send();
  });

  scope.delete<Version>('/files/:id/:version', { schema: S.deleteVersion }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const file = await fileFor(c, req.params.id, 'DELETE');
    await deleteVersion(vfs.fs, c.instance, file._id, req.params.version);
    return reply.code(204).send();
  });
}
