/**
 * `GET|HEAD /assets/*`, `/favicon.ico`, `/robots.txt` and `/security.txt` on the instance's host (cozy-stack's assets
 * routes). A context's version of an asset comes first, `/favicon.ico` included (cozy-stack serves it from the assets).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFound } from '../../common/errors.js';
import { instanceOf } from '../../data/http/context.js';
import type { InstanceSettingsStore } from '../../instances/types.js';
import { effectiveTheme, themeCss } from '../../settings/theme.js';
import type { Asset, StackAssets } from './assets.js';
import { assetEtag, type ContextAssets } from './context-assets.js';
import type { ContextAsset } from './context-index.js';
import { contextOf } from '../../instances/context.js';
import * as S from './schemas.js';

export interface AssetRoutesDeps {
  assets: StackAssets;
  settings: InstanceSettingsStore;
  /** The per-context overrides, served before the built-in assets. */
  contextAssets?: ContextAssets;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const PLAIN = 'public, max-age=3600';
/** The built-in favicon changes only with a new version of Hearth. */
const FAVICON = 'public, max-age=86400';

/** A context's version of an asset, streamed from the blob store, with the same caching and ETag rules as the others. */
async function sendOverride(req: FastifyRequest, reply: FastifyReply, ctx: ContextAssets, found: { asset: ContextAsset; hashed: boolean }): Promise<FastifyReply> {
  const etag = assetEtag(found.asset);
  void reply.header('ETag', etag).header('Cache-Control', found.hashed ? IMMUTABLE : PLAIN).type(found.asset.type);
  if (String(req.headers['if-none-match'] ?? '').split(',').map((s) => s.trim()).includes(etag)) return reply.code(304).send();
  void reply.header('Content-Length', String(found.asset.size));
  return reply.send(await ctx.open(found.asset));
}

function send(req: FastifyRequest, reply: FastifyReply, a: Pick<Asset, 'body' | 'type' | 'etag'>, cache: string): FastifyReply {
  void reply.header('ETag', a.etag).header('Cache-Control', cache).type(a.type);
  if (String(req.headers['if-none-match'] ?? '').split(',').map((s) => s.trim()).includes(a.etag)) return reply.code(304).send();
  return reply.send(a.body);
}

export function registerAssetRoutes(app: FastifyInstance, deps: AssetRoutesDeps): void {
  const serve = async (req: FastifyRequest, reply: FastifyReply, name: string): Promise<FastifyReply> => {
    const override = deps.contextAssets ? await deps.contextAssets.find(contextOf(instanceOf(req)), name) : null;
    if (override) return sendOverride(req, reply, deps.contextAssets!, override);
    if (name === 'styles/theme.css') {
      // the instance's theme (settings/theme.ts): it changes with the settings, so it is revalidated, never hashed
      const { settings } = await deps.settings.settings(instanceOf(req));
      const { css, etag } = themeCss(effectiveTheme(settings.theme));
      return send(req, reply, { body: Buffer.from(css), type: 'text/css; charset=utf-8', etag }, 'public, no-cache');
    }
    const a = deps.assets.get(name) ?? (await deps.assets.image(name));
    if (!a) throw new NotFound(`no asset ${name.slice(0, 200)}`);
    return send(req, reply, a, a.immutable ? IMMUTABLE : name === 'favicon.ico' ? FAVICON : PLAIN);
  };
  app.get<{ Params: { '*': string } }>('/assets/*', { schema: S.asset }, (req, reply) => serve(req, reply, req.params['*']));
  app.get('/favicon.ico', { schema: S.favicon }, (req, reply) => serve(req, reply, 'favicon.ico'));
  app.get('/robots.txt', { schema: S.robots }, async (_req, reply) => reply.type('text/plain; charset=utf-8').send(deps.assets.get('robots.txt')?.body));
  app.get('/security.txt', { schema: S.securityTxt }, async (req, reply) => {
    const instance = instanceOf(req);
    const contact = instance.email ? `mailto:${instance.email}` : `${req.protocol}://${instance.domain}/`;
    const expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString();
    return reply.type('text/plain; charset=utf-8').send(`Contact: ${contact}\nExpires: ${expires}\n`);
  });
}
