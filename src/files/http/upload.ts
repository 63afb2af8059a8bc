/**
 * Creating directories and files, overwriting a file's content (POST /files/:dir-id, PUT /files/:id).
 * A file's body is raw (not multipart) and streamed into the blob store; Content-Length (or Size=)
 * is checked against the quota before a byte is read (413), Content-MD5 against the content (412).
 * `MetadataID=` (from POST /files/upload/metadata) gives a new file, or a file whose content is replaced, its
 * `metadata` object (422 if unknown or expired), as cozy-stack: cozy-konnector-libs sends it on both.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UnprocessableEntity } from '../../common/errors.js';
import type { Doc } from '../../data/store.js';
import { mimeOf } from '../mime.js';
import { ROOT_DIR_ID, classOf, validateName, type FileDoc } from '../types.js';
import { uploadMetadata } from '../upload-metadata.js';
import { allowCreate, allowVfs, appSlugOf, callerOf, type Caller } from './access.js';
import { uploadBody } from './body.js';
import type { FilesDeps } from './deps.js';
import { boolParam, contentMd5, dateHeader, dateParam, header, ifMatch, param, sourceParams, tagsParam, uploadSize } from './params.js';
import { JSONAPI, single } from './serialize.js';
import * as S from './schemas.js';

type DirParams = { Params: { dirId?: string } };

/** The metadata object named by `MetadataID=`, if given. */
async function metadataParam(deps: FilesDeps, c: Caller, req: FastifyRequest): Promise<{ metadata?: Doc }> {
  const id = param(req, 'MetadataID');
  return id === undefined ? {} : { metadata: await uploadMetadata(deps.vfs.fs, c.instance, id) };
}

function created(req: FastifyRequest, reply: FastifyReply, doc: FileDoc): FastifyReply {
  const host = req.instance?.domain ?? String(req.headers.host ?? '');
  reply.header('location', `${req.protocol}://${host}/files/${encodeURIComponent(doc._id)}`);
  return reply.code(201).type(JSONAPI).send(single(doc));
}

export function registerUploadRoutes(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;

  const create = async (req: FastifyRequest<DirParams>, reply: FastifyReply) => {
    const c = await callerOf(perms, req);
    const type = param(req, 'Type');
    if (type !== 'file' && type !== 'directory') throw new UnprocessableEntity('Type must be "file" or "directory"', 'invalid_parameter');
    const name = validateName(param(req, 'Name'));
    const dirId = req.params.dirId || ROOT_DIR_ID;
    const tags = tagsParam(req);
    const createdAt = dateParam(req, 'CreatedAt') ?? dateHeader(req);
    const updatedAt = dateParam(req, 'UpdatedAt') ?? dateHeader(req);
    const parent = await vfs.fs.stat(c.instance, dirId);
    const app = appSlugOf(c.set);
    const source = sourceParams(req);
    const common = { dirId: parent._id, name, ...(tags ? { tags } : {}), ...(createdAt ? { createdAt } : {}), ...(updatedAt ? { updatedAt } : {}), ...(app ? { app } : {}), ...(source ? { source } : {}) };
    if (type === 'directory') {
      await allowCreate(vfs, c, parent, { type, name, tags: tags ?? [] });
      return created(req, reply, await vfs.fs.createDir(c.instance, common));
    }
    const sent = header(req, 'content-type');
    const mime = await mimeOf(name, sent); // by name and header only: the content is not read yet
    await allowCreate(vfs, c, parent, { type, name, tags: tags ?? [], mime, class: classOf(mime) });
    const size = uploadSize(req);
    const md5 = contentMd5(req);
    const executable = boolParam(req, 'Executable');
    const metadata = await metadataParam(deps, c, req);
    const doc = await vfs.fs.upload(c.instance, {
      ...common, parent, body: uploadBody(req.raw), ...metadata,
      ...(size === undefined ? {} : { size }), ...(md5 ? { md5 } : {}), ...(sent ? { mime: sent } : {}), ...(executable === undefined ? {} : { executable }),
    });
    return created(req, reply, doc);
  };
  scope.post('/files', { schema: S.upload('Creates a file (raw body) or a directory at the root', false) }, create);
  scope.post('/files/', { schema: S.upload('Creates a file (raw body) or a directory at the root', false) }, create);
  scope.post<DirParams>('/files/:dirId', { schema: S.upload('Creates a file (raw body, streamed) or a directory in the directory {dirId}', true) }, create);

  scope.put<{ Params: { id: string } }>('/files/:id', { schema: S.overwrite }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const doc = await vfs.fs.stat(c.instance, req.params.id);
    await allowVfs(vfs, c, 'PUT', doc);
    const size = uploadSize(req);
    const md5 = contentMd5(req);
    const sent = header(req, 'content-type');
    const executable = boolParam(req, 'Executable');
    const rev = ifMatch(req);
    const app = appSlugOf(c.set);
    const tags = tagsParam(req);
    const updatedAt = dateParam(req, 'UpdatedAt') ?? dateHeader(req);
    const source = sourceParams(req);
    const metadata = await metadataParam(deps, c, req);
    const next = await vfs.fs.overwrite(c.instance, doc._id, {
      body: uploadBody(req.raw), ...metadata, ...(tags ? { tags } : {}), ...(updatedAt ? { updatedAt } : {}), ...(source ? { source } : {}),
      ...(size === undefined ? {} : { size }), ...(md5 ? { md5 } : {}), ...(sent ? { mime: sent } : {}),
      ...(executable === undefined ? {} : { executable }), ...(rev === undefined ? {} : { ifMatch: rev }), ...(app ? { app } : {}),
    });
    return reply.code(200).type(JSONAPI).send(single(next));
  });
}
