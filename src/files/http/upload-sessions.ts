/**
 * Resumable uploads over HTTP (a Hearth extension, on the model of tus.io's core protocol; cozy's upload routes are
 * unchanged): POST /files/uploads opens a session with the query of the cozy upload (DirID, Name, Size, Content-MD5,
 * Content-Type…) and the same right (POST on the directory, through files/rights.ts); PATCH appends a chunk at its
 * Upload-Offset, the last one creates the file (201, the cozy upload's answer); HEAD gives the offset; DELETE cancels.
 * A session answers only the token source (app, konnector, client) that opened it, on its instance: 404 otherwise.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest, UnprocessableEntity } from '../../common/errors.js';
import type { PermissionSet } from '../../permissions/rules.js';
import { classOf, ROOT_DIR_ID, validateName } from '../types.js';
import { mimeOf } from '../mime.js';
import { OffsetMismatch, UploadSessions, type UploadSession } from '../upload-sessions.js';
import { allowCreate, appSlugOf, callerOf, type Caller } from './access.js';
import { uploadBody } from './body.js';
import type { FilesDeps } from './deps.js';
import { boolParam, contentMd5, dateParam, header, param, sourceParams, tagsParam } from './params.js';
import { JSONAPI, single } from './serialize.js';
import * as S from './schemas.js';

type Id = { Params: { id: string } };

/** Who may continue a session: the token's source (an app, konnector, OAuth client, share), not the token itself. */
export function ownerOf(set: PermissionSet): string {
  return `${set.type}:${set.docId ?? set.sourceId ?? ''}`;
}

function resource(s: UploadSession) {
  const { target: t } = s;
  return {
    type: 'io.cozy.files.uploads', id: s.id,
    attributes: { dir_id: t.dirId, name: t.name, size: t.size, offset: s.offset, created_at: s.created_at, expires_at: s.expires_at, history: s.history, ...(s.file_id ? { file_id: s.file_id } : {}) },
    links: { self: `/files/uploads/${s.id}` },
  };
}

function bytesHeader(req: FastifyRequest, name: string, required: boolean): number | undefined {
  const raw = header(req, name) ?? (name === 'size' ? param(req, 'Size') : undefined);
  if (raw === undefined) {
    if (required) throw new UnprocessableEntity(`${name === 'size' ? 'Size=' : name} is required: a number of bytes`, 'invalid_parameter');
    return undefined;
  }
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new UnprocessableEntity(`${name} must be a number of bytes, not "${raw.slice(0, 40)}"`, 'invalid_parameter');
  return Number(raw);
}

function withOffset(reply: FastifyReply, s: UploadSession): FastifyReply {
  return reply.header('upload-offset', String(s.offset)).header('upload-length', String(s.target.size)).header('upload-expires', new Date(s.expires_at).toUTCString()).header('cache-control', 'no-store');
}

export function registerUploadSessionRoutes(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;
  const sessions = new UploadSessions(vfs.fs, deps.uploadExpires);

  /** The session, if the caller owns it and may still create its file in its directory. */
  const mine = async (c: Caller, id: string): Promise<UploadSession> => {
    const s = await sessions.get(c.instance, ownerOf(c.set), id);
    const parent = await vfs.fs.stat(c.instance, s.target.dirId);
    const mime = s.target.mime ?? 'application/octet-stream';
    await allowCreate(vfs, c, parent, { type: 'file', name: s.target.name, tags: s.target.tags ?? [], mime, class: classOf(mime) });
    return s;
  };

  scope.post('/files/uploads', { schema: S.createUploadSession }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const name = validateName(param(req, 'Name'));
    const parent = await vfs.fs.stat(c.instance, param(req, 'DirID') || ROOT_DIR_ID);
    const sent = header(req, 'content-type');
    const mime = await mimeOf(name, sent);
    const tags = tagsParam(req);
    await allowCreate(vfs, c, parent, { type: 'file', name, tags: tags ?? [], mime, class: classOf(mime) });
    const size = bytesHeader(req, 'size', true)!;
    const md5 = contentMd5(req);
    const createdAt = dateParam(req, 'CreatedAt');
    const updatedAt = dateParam(req, 'UpdatedAt');
    const executable = boolParam(req, 'Executable');
    const app = appSlugOf(c.set);
    const source = sourceParams(req);
    const s = await sessions.create(c.instance, ownerOf(c.set), {
      dirId: parent._id, name, size, ...(md5 ? { md5 } : {}), ...(sent ? { mime: sent } : {}), ...(tags ? { tags } : {}), ...(createdAt ? { createdAt } : {}),
      ...(updatedAt ? { updatedAt } : {}), ...(executable === undefined ? {} : { executable }), ...(app ? { app } : {}), ...(source ? { source } : {}),
    });
    const host = req.instance?.domain ?? String(req.headers.host ?? '');
    reply.header('location', `${req.protocol}://${host}/files/uploads/${s.id}`);
    return withOffset(reply, s).code(201).type(JSONAPI).send({ data: resource(s) });
  });

  scope.get('/files/uploads', { schema: S.uploadSessions }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const list = await sessions.list(c.instance, ownerOf(c.set));
    return reply.header('cache-control', 'no-store').type(JSONAPI).send({ data: list.map(resource), meta: { count: list.length } });
  });

  scope.head<Id>('/files/uploads/:id', { schema: S.uploadSessionOffset }, async (req, reply) => {
    const s = await mine(await callerOf(perms, req), req.params.id);
    return withOffset(reply, s).code(200).send();
  });

  scope.get<Id>('/files/uploads/:id', { schema: S.uploadSession }, async (req, reply) => {
    const s = await mine(await callerOf(perms, req), req.params.id);
    return withOffset(reply, s).type(JSONAPI).send({ data: resource(s) });
  });

  scope.patch<Id>('/files/uploads/:id', { schema: S.appendUploadSession }, async (req, reply) => {
    const c = await callerOf(perms, req);
    let s = await mine(c, req.params.id);
    const offset = bytesHeader(req, 'upload-offset', true)!;
    const length = bytesHeader(req, 'content-length', false);
    const name = param(req, 'Name');
    try {
      if (!s.file_id && !(offset === s.target.size && s.offset === s.target.size && !length)) {
        s = await sessions.append(c.instance, s, offset, uploadBody(req.raw), length);
      } else if (s.file_id && offset !== s.target.size) {
        throw new OffsetMismatch(s.offset);
      }
    } catch (err) {
      if (err instanceof OffsetMismatch) reply.header('upload-offset', String(err.offset));
      throw err;
    }
    if (s.offset < s.target.size) return withOffset(reply, s).code(204).send();
    if (!req.raw.complete) throw new BadRequest('the upload was interrupted before the end of its body', 'upload_interrupted');
    const { doc, created } = await sessions.finish(c.instance, s, name);
    const host = req.instance?.domain ?? String(req.headers.host ?? '');
    reply.header('location', `${req.protocol}://${host}/files/${encodeURIComponent(doc._id)}`).header('upload-offset', String(s.target.size));
    return reply.code(created ? 201 : 200).type(JSONAPI).send(single(doc));
  });

  scope.delete<Id>('/files/uploads/:id', { schema: S.cancelUploadSession }, async (req, reply) => {
    const c = await callerOf(perms, req);
    await sessions.cancel(c.instance, ownerOf(c.set), req.params.id);
    return reply.code(204).send();
  });
}
