/**
 * `GET /apps/:slug/icon[/:version]` and `/konnectors/:slug/icon[/:version]` (cozy-apps.md §4.1): the manifest's
 * `icon` file from the installed code. The owner's session is enough (the home shows icons), else a token with GET
 * on the app. With a version in the path the answer is cached for good (the version's code never changes).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import mime from 'mime-types';
import { NotFound, Unauthorized } from '../../common/errors.js';
import { content, params, type RouteSchema } from '../../common/schemas.js';
import { currentSession } from '../../auth/session-http.js';
import { instanceOf } from '../../data/http/context.js';
import type { DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import { findApp } from '../repo.js';
import { KIND, type AppFileSource, type AppKind } from '../types.js';
import { mayRead, type Caller } from './access.js';
import type { OwnerDeps } from '../../auth/owner.js';
import { extractToken } from '../../permissions/resolve.js';

export interface IconDeps extends OwnerDeps {
  storeOf(instance: Instance): DocStore;
  files: AppFileSource;
}

const schema = (kind: AppKind, versioned: boolean): RouteSchema => ({
  summary: `The icon of an installed ${kind === 'webapp' ? 'web app' : 'konnector'}${versioned ? ' (a version: cached for good)' : ''}`, tags: ['apps'],
  params: params({ slug: 'The slug', ...(versioned ? { version: 'The version (only for caching)' } : {}) }),
  response: { 200: content('The icon file', ['image/svg+xml', 'image/png', 'application/octet-stream']) },
});

type Req = FastifyRequest<{ Params: { slug: string; version?: string } }>;

/** The icon's path in the app, or null when the manifest names none (or one leaving the app). */
function iconPath(icon: unknown): string | null {
  if (typeof icon !== 'string' || icon === '') return null;
  const path = icon.replace(/^\/+/, '');
  return path.split('/').some((s) => s === '..' || s === '') || path.includes('\0') ? null : path;
}

export function registerIconRoutes(scope: FastifyInstance, deps: IconDeps, kind: AppKind): void {
  const { doctype, route } = KIND[kind];
  const handler = async (req: Req, reply: FastifyReply) => {
    const instance = instanceOf(req);
    const caller: Caller | null = extractToken(req) ? { instance, set: await deps.perms.forRequest(instance, req) } : null;
    if (caller) mayRead(caller.set, doctype, `${doctype}/${req.params.slug}`);
    else if (!(await currentSession(deps, instance, req))) throw new Unauthorized('log in, or send a token with GET on the app, to read its icon');
    const doc = await findApp(deps.storeOf(instance), kind, req.params.slug);
    const path = doc ? iconPath(doc.icon) : null;
    const file = doc?.checksum && path ? await deps.files.open(doc, kind, path, req.headers['accept-encoding']) : null;
    if (!doc || !path || !file) throw new NotFound(`${req.params.slug} has no icon`);
    reply.header('Content-Type', mime.lookup(path) || 'application/octet-stream').header('ETag', file.etag).header('Content-Length', String(file.size));
    if (file.contentEncoding) reply.header('Content-Encoding', file.contentEncoding).header('Vary', 'Accept-Encoding');
    reply.header('Cache-Control', req.params.version ? 'max-age=31536000, immutable' : 'private, max-age=3600');
    return reply.send(file.body);
  };
  scope.get(`${route}/:slug/icon`, { schema: schema(kind, false) }, handler);
  scope.get(`${route}/:slug/icon/:version`, { schema: schema(kind, true) }, handler);
}
