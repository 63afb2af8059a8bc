/**
 * A file's content: GET/HEAD /files/download/:id and /files/download?Path=. Streamed from the blob
 * store (never buffered), with the file's MIME type, `ETag: "<md5sum>"`, Last-Modified, ranges (one, or several
 * as multipart/byteranges: ../ranges.ts) and conditional requests (conditional.ts), and Content-Disposition inline
 * unless `Dl=1`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UnprocessableEntity } from '../../common/errors.js';
import type { Instance } from '../../instances/types.js';
import type { Vfs } from '../vfs.js';
import { isDir, type FileDoc } from '../types.js';
import { partialContent } from '../ranges.js';
import { allowVfs, callerOf, type Caller } from './access.js';
import { evaluate } from './conditional.js';
import { contentDisposition } from './disposition.js';
import { param } from './params.js';
import type { FilesDeps } from './deps.js';
import * as S from './schemas.js';

async function serve(vfs: Vfs, c: Caller, doc: FileDoc, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  await allowVfs(vfs, c, 'GET', doc);
  return sendContent(vfs, c.instance, doc, req, reply);
}

/** Sends a file's content (the rights were checked by the caller); `name` overrides the file's in Content-Disposition. */
export async function sendContent(vfs: Vfs, instance: Instance, doc: FileDoc, req: FastifyRequest, reply: FastifyReply, name = doc.name): Promise<FastifyReply> {
  if (isDir(doc)) throw new UnprocessableEntity('a directory has no content to download: download its files', 'not_a_file');
  const size = Number(doc.size);
  const etag = `"${String(doc.md5sum)}"`;
  const modified = Math.floor(Date.parse(doc.updated_at) / 1000) * 1000;
  const outcome = evaluate(req, { etag, modified, size });
  // opened before any header is set: a missing blob still gets a clean JSON-API error
  const body = req.method === 'GET' && outcome.status !== 304 ? await vfs.fs.open(instance, doc, outcome.status === 206 ? outcome.ranges[0] : undefined) : null;
  reply.header('etag', etag).header('last-modified', new Date(modified).toUTCString()).header('accept-ranges', 'bytes');
  if (outcome.status === 304) return reply.code(304).send();
  const mime = String(doc.mime || 'application/octet-stream');
  reply.header('content-type', mime);
  reply.header('content-disposition', contentDisposition(param(req, 'Dl') === '1' ? 'attachment' : 'inline', name));
  if (outcome.status === 206) {
    const partial = partialContent(outcome.ranges, size, mime);
    reply.code(206).headers(partial.headers);
    return body ? reply.send(partial.body(body, (r) => vfs.fs.open(instance, doc, r))) : reply.send();
  }
  reply.code(200).header('content-length', String(size));
  return body ? reply.send(body) : reply.send();
}

export function registerDownloadRoutes(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;
  const byId = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const c = await callerOf(perms, req);
    return serve(vfs, c, await vfs.fs.stat(c.instance, req.params.id), req, reply);
  };
  const byPath = async (req: FastifyRequest, reply: FastifyReply) => {
    const c = await callerOf(perms, req);
    return serve(vfs, c, await vfs.fs.statByPath(c.instance, param(req, 'Path')), req, reply);
  };
  // explicit HEAD routes: Fastify's automatic ones would open (and read) the blob
  scope.head('/files/download/:id', { schema: S.downloadById }, byId);
  scope.get('/files/download/:id', { exposeHeadRoute: false, schema: S.downloadById }, byId);
  scope.head('/files/download', { schema: S.downloadByPath }, byPath);
  scope.get('/files/download', { exposeHeadRoute: false, schema: S.downloadByPath }, byPath);
}
