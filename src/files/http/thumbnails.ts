/**
 * `GET /files/:file-id/thumbnails/:secret/:format` (cozy-stack's web/files ThumbnailHandler): a
 * thumbnail of an image, `image/jpeg`, without a token — the secret of the file resource's
 * `links.tiny|small|medium|large` is the credential (thumbnails/state.ts). An unknown format is a
 * 400; a wrong secret, a file of another instance or without thumbnails of its content are the
 * same 404, so that nothing tells them apart. The secret changes with the content, so the answer
 * may be cached for good (`immutable`); its ETag is the file's MD5 and the format.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest, NotFound } from '../../common/errors.js';
import { instanceOf } from '../../data/http/context.js';
import { THUMB_FORMATS, currentThumbs, isThumbFormat, secretMatches } from '../thumbnails/state.js';
import type { FilesDeps } from './deps.js';
import * as S from './schemas.js';

type Params = { Params: { id: string; secret: string; format: string } };

const none = () => new NotFound('no such thumbnail (the link is wrong, or the file has no thumbnails of its content yet)');

export function registerThumbnailRoutes(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs } = deps;
  const serve = async (req: FastifyRequest<Params>, reply: FastifyReply) => {
    const { id, secret, format } = req.params;
    if (!isThumbFormat(format)) throw new BadRequest(`unknown thumbnail format "${format.slice(0, 40)}": ${THUMB_FORMATS.join(', ')}`, 'invalid_format');
    const instance = instanceOf(req);
    const area = vfs.fs.thumbs;
    const doc = await vfs.fs.stat(instance, id).catch((err: unknown) => {
      if (err instanceof NotFound) throw none();
      throw err;
    });
    const thumbs = currentThumbs(doc);
    if (!area || !thumbs || !secretMatches(await deps.linkSecret(instance), instance.id, doc, secret)) throw none();
    const key = thumbs.keys[format];
    const size = await area.size(instance.id, key);
    if (size === null) throw none();
    const etag = `"${String(doc.md5sum)}-${format}"`;
    reply.header('etag', etag).header('cache-control', 'private, max-age=31536000, immutable');
    const inm = req.headers['if-none-match'];
    if (typeof inm === 'string' && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return reply.code(304).send();
    reply.header('content-type', 'image/jpeg').header('content-length', String(size));
    if (req.method === 'HEAD') return reply.code(200).send();
    return reply.code(200).send(await area.read(instance.id, key));
  };
  scope.head('/files/:id/thumbnails/:secret/:format', { schema: S.thumbnail }, serve);
  scope.get('/files/:id/thumbnails/:secret/:format', { exposeHeadRoute: false, schema: S.thumbnail }, serve);
}
