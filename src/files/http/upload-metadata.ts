/**
 * `POST /files/upload/metadata`: a metadata object (`{data: {type: "io.cozy.files.metadata",
 * attributes: {…}}}`) kept 10 minutes for an upload's `MetadataID=` (files/upload-metadata.ts). Needs a
 * POST right on io.cozy.files (any rule: the upload that uses it checks its own directory).
 */
import type { FastifyInstance } from 'fastify';
import { Forbidden } from '../../common/errors.js';
import { Permissions } from '../../permissions/rules.js';
import { FILES_DOCTYPE } from '../types.js';
import { saveUploadMetadata } from '../upload-metadata.js';
import { callerOf } from './access.js';
import type { FilesDeps } from './deps.js';
import { JSONAPI } from './serialize.js';
import { attributesOf } from './versions.js';
import * as S from './schemas.js';

export const METADATA_DOCTYPE = 'io.cozy.files.metadata';

export function registerUploadMetadataRoute(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;
  scope.post('/files/upload/metadata', { schema: S.uploadMetadata }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const may = c.set.rules.some((r) => Permissions.allowsDoc({ ...c.set, rules: [{ ...r, values: undefined, selector: undefined }] }, 'POST', FILES_DOCTYPE, { id: '', fetch: () => [] }));
    if (!may) throw new Forbidden('sending upload metadata needs a POST right on io.cozy.files');
    const attributes = attributesOf(req.body, METADATA_DOCTYPE);
    const id = await saveUploadMetadata(vfs.fs, c.instance, attributes);
    return reply.code(201).type(JSONAPI).send({ data: { type: METADATA_DOCTYPE, id, attributes } });
  });
}
