/** `GET /files/:id/size`: the recursive size of a directory (files/size.ts), as io.cozy.files.sizes; needs GET on it. */
import type { FastifyInstance } from 'fastify';
import { NotFound } from '../../common/errors.js';
import { dirSize } from '../size.js';
import { isDir } from '../types.js';
import { allowVfs, callerOf } from './access.js';
import type { FilesDeps } from './deps.js';
import { JSONAPI } from './serialize.js';
import * as S from './schemas.js';

export const SIZES_DOCTYPE = 'io.cozy.files.sizes';

export function registerSizeRoute(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;
  scope.get<{ Params: { id: string } }>('/files/:id/size', { schema: S.size }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const dir = await vfs.fs.stat(c.instance, req.params.id);
    if (!isDir(dir)) throw new NotFound(`no directory ${req.params.id.slice(0, 100)}: only directories have a size here`);
    await allowVfs(vfs, c, 'GET', dir);
    const size = await dirSize(vfs.fs, c.instance, dir);
    return reply.type(JSONAPI).send({ data: { type: SIZES_DOCTYPE, id: dir._id, attributes: { size: String(size) }, meta: {} } });
  });
}
