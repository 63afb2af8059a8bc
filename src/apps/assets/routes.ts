/** `GET|HEAD /assets/*`, `/robots.txt` and `/security.txt` on the instance's host (cozy-stack's assets routes). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFound } from '../../common/errors.js';
import { instanceOf } from '../../data/http/context.js';
import type { InstanceSettingsStore } from '../../instances/types.js';
import { effectiveTheme, themeCss } from '../../settings/theme.js';
import type { Asset, StackAssets } from './assets.js';
import * as S from './schemas.js';

export interface AssetRoutesDeps {
  assets: StackAssets;
  settings: InstanceSettingsStore;
}

function send(req: FastifyRequest, reply: FastifyReply, a: Pick<Asset, 'body' | 'type' | 'etag'>, cache: string): FastifyReply {
  void reply.header('ETag', a.etag).header('Cache-Control', cache).type(a.type);
  if (String(req.headers['if-none-match'] ?? '').split(',').map((s) => s.trim()).includes(a.etag)) return reply.code(304).send();
  return reply.send(a.body);
}

export function registerAssetRoutes(app: FastifyInstance, deps: AssetRoutesDeps): void {
  app.get<{ Params: { '*': string } }>('/assets/*', { schema: S.asset }, async (req, reply) => {
    const name = req.params['*'];
    if (name === 'styles/theme.css') {
      // the instance's theme (settings/theme.ts): it changes with the settings, so it is revalidated, never hashed
      const { settings } = await deps.settings.settings(instanceOf(req));
      const { css, etag } = themeCss(effectiveTheme(settings.theme));
      return send(req, reply, { body: Buffer.from(css), type: 'text/css; charset=utf-8', etag }, 'public, no-cache');
    }
    const a = deps.assets.get(name) ?? (await deps.assets.image(name));
    if (!a) throw new NotFound(`no asset ${name.slice(0, 200)}`);
    return send(req, reply, a, a.immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
  });
  app.get('/robots.txt', { schema: S.robots }, async (_req, reply) => reply.type('text/plain; charset=utf-8').send(deps.assets.get('robots.txt')?.body));
  app.get('/security.txt', { schema: S.securityTxt }, async (req, reply) => {
    const instance = instanceOf(req);
    const contact = instance.email ? `mailto:${instance.email}` : `${req.protocol}://${instance.domain}/`;
    const expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString();
    return reply.type('text/plain; charset=utf-8').send(`Contact: ${contact}\nExpires: ${expires}\n`);
  });
}
