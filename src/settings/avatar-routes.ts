/**
 * cozy-stack's avatar routes: `PUT /settings/avatar` (the raw image, 204), `DELETE /settings/avatar`
 * (204), both with PUT on io.cozy.settings (the whole type) or the owner's session from the
 * instance's pages; `GET /public/avatar` without a token: the stored avatar, else the initials
 * (`fallback=initials`, the default, or `anonymous`, `404`; `as=unconfirmed` grey, `fx=translucent`,
 * `format=png|svg`), with an ETag and a closed CSP (an SVG opened directly runs nothing).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { loadSharp } from '../common/lazy-libs.js';
import { NotFound } from '../common/errors.js';
import * as schemas from './schemas.js';
import { instanceOf } from '../data/http/context.js';
import { requireOwner } from '../auth/owner.js';
import type { SettingsDeps } from './access.js';
import { checkAvatarType, initialsSvg, processAvatar, readAvatarBody } from './avatar.js';
import { createHash } from 'node:crypto';

const AVATAR_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

type AvatarQuery = { fallback?: string; as?: string; fx?: string; format?: string };

function send(req: FastifyRequest, reply: FastifyReply, data: Buffer, type: string, etag: string): FastifyReply {
  void reply.header('ETag', etag).header('Cache-Control', 'public, no-cache').header('Content-Security-Policy', AVATAR_CSP);
  if (String(req.headers['if-none-match'] ?? '').split(',').map((s) => s.trim()).includes(etag)) return reply.code(304).send();
  return reply.type(type).send(data);
}


export function registerAvatarRoutes(app: FastifyInstance, deps: SettingsDeps): void {
  void app.register(async (scope) => {
    // The body stays a stream: it is read here with the avatar's own limit (a clear 413 before it is all received).
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.put('/settings/avatar', { schema: schemas.putAvatar }, async (req, reply) => {
      const { instance } = await requireOwner(deps, req, 'PUT');
      checkAvatarType(req.headers['content-type']);
      const body = await readAvatarBody(req.body as Readable, req.headers['content-length']);
      const { data } = await processAvatar(body);
      await deps.avatars.write(instance.id, data);
      return reply.code(204).send();
    });
    scope.delete('/settings/avatar', { schema: schemas.deleteAvatar }, async (req, reply) => {
      const { instance } = await requireOwner(deps, req, 'PUT');
      await deps.avatars.remove(instance.id);
      return reply.code(204).send();
    });
  });

  app.get<{ Querystring: AvatarQuery }>('/public/avatar', { schema: schemas.publicAvatar }, async (req, reply) => {
    const instance = instanceOf(req);
    const stored = await deps.avatars.read(instance.id);
    if (stored) return send(req, reply, stored.data, stored.type, stored.etag);
    const q = req.query;
    const fallback = q.fallback || 'initials';
    const grey = !!q.as;
    const translucent = !!q.fx;
    const png = q.format?.toLowerCase() === 'png';
    if (fallback === '404') throw new NotFound('this instance has no avatar');
    const name = fallback === 'anonymous' ? '' : (instance.publicName ?? instance.domain.split('.')[0]!.split(':')[0]!);
    const svg = initialsSvg(name, { grey, translucent });
    const data = png ? await (await loadSharp())(Buffer.from(svg)).resize(128, 128).png().toBuffer() : Buffer.from(svg);
    const etag = `"${createHash('sha256').update(data).digest('hex').slice(0, 32)}"`;
    return send(req, reply, data, png ? 'image/png' : 'image/svg+xml', etag);
  });
}
