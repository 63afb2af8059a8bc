/**
 * The /registry proxy (contract §6, cozy-stack's web/registry): the querying half of cozy's registry API,
 * answered from the instance's registries in order (merge.ts). Who may call:
 * - the lists, an application, a version and a channel's latest: an app token or an OAuth token (other
 *   tokens 403, none 401);
 * - icons and screenshots: the owner's session, or a token with GET on the whole io.cozy.apps (else 403).
 * The list, application and maintenance answers are gzip-compressed when the request accepts it; icons
 * and screenshots are streamed as the registry sends them, cached a day (`max-age=86400`), or for ever
 * (`max-age=31536000, immutable`) when they name a version, as a version object does.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Forbidden, NotFound } from '../../common/errors.js';
import { currentSession, type SessionDeps } from '../../auth/session-http.js';
import { instanceOf } from '../../data/http/context.js';
import { extractToken, type PermissionResolver } from '../../permissions/resolve.js';
import { Permissions } from '../../permissions/rules.js';
import { APPS_DOCTYPE } from '../types.js';
import { parseListQuery } from './query.js';
import * as schemas from './schemas.js';
import { channelOf } from './versions.js';
import type { AssetPath, Channel, Registries } from './types.js';

export interface RegistryRouteDeps extends SessionDeps {
  perms: PermissionResolver;
  registries: Registries;
}

const IMMUTABLE = 'max-age=31536000, immutable';
const A_DAY = 'max-age=86400';
const gzipAsync = promisify(gzip);

/** Whether the request accepts gzip (`gzip` or `*` listed without q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  for (const part of (header ?? '').split(',')) {
    const [name, ...p] = part.trim().toLowerCase().split(';');
    const q = p.map((x) => x.trim()).find((x) => x.startsWith('q='));
    if ((name === 'gzip' || name === '*') && !(q && Number(q.slice(2)) === 0)) return true;
  }
  return false;
}

async function sendJson(req: FastifyRequest, reply: FastifyReply, value: unknown, compress: boolean): Promise<FastifyReply> {
  const body = Buffer.from(JSON.stringify(value));
  reply.type('application/json; charset=utf-8');
  if (!compress) return reply.send(body);
  reply.header('Vary', 'Accept-Encoding');
  if (!acceptsGzip(req.headers['accept-encoding'])) return reply.send(body);
  return reply.header('Content-Encoding', 'gzip').send(await gzipAsync(body));
}

/** An app token or an OAuth token, as cozy-stack's proxy asks. */
async function requireAppOrOAuth(deps: RegistryRouteDeps, req: FastifyRequest): Promise<void> {
  const set = await deps.perms.forRequest(instanceOf(req), req);
  if (set.type !== 'app' && set.type !== 'oauth') throw new Forbidden('the registry is read with the token of a web app or of an OAuth client');
}

/** The session, or a token with GET on the whole io.cozy.apps: 403 otherwise (cozy-stack's icons rule). */
async function requireIconReader(deps: RegistryRouteDeps, req: FastifyRequest): Promise<void> {
  const instance = instanceOf(req);
  if (extractToken(req)) {
    const set = await deps.perms.forRequest(instance, req).catch(() => null);
    if (set && Permissions.allowsWholeType(set, 'GET', APPS_DOCTYPE)) return;
  }
  if (await currentSession(deps, instance, req)) return;
  throw new Forbidden(`the icons of the registry are for the logged-in owner, or a token with GET on ${APPS_DOCTYPE}`);
}

export function registerRegistryRoutes(app: FastifyInstance, deps: RegistryRouteDeps): void {
  const { registries } = deps;

  const list = async (req: FastifyRequest, reply: FastifyReply) => {
    await requireAppOrOAuth(deps, req);
    const query = parseListQuery(req.query as Record<string, unknown>);
    return sendJson(req, reply, await registries.list(query), true);
  };
  app.get('/registry', { schema: schemas.list }, list);
  app.get('/registry/', { schema: schemas.list }, list);

  app.get('/registry/maintenance', { schema: schemas.maintenance }, async (req, reply) => {
    await requireAppOrOAuth(deps, req);
    return sendJson(req, reply, await registries.maintenance(), true);
  });

  app.get<{ Params: { app: string } }>('/registry/:app', { schema: schemas.application }, async (req, reply) => {
    await requireAppOrOAuth(deps, req);
    const found = await registries.application(req.params.app);
    if (!found) throw new NotFound(`no app registry has the application ${req.params.app}`);
    return sendJson(req, reply, found, true);
  });

  app.get<{ Params: { app: string; version: string } }>('/registry/:app/:version', { schema: schemas.versionObject }, async (req, reply) => {
    await requireAppOrOAuth(deps, req);
    const { app: slug, version } = req.params;
    const found = channelOf(version) ? await registries.resolveVersion(slug, version) : null;
    if (!found) throw new NotFound(`no app registry has the version ${version} of ${slug}`);
    reply.header('Cache-Control', IMMUTABLE);
    return sendJson(req, reply, found, false);
  });

  // the channel is named :version in the path: the router shares one parameter name per position
  app.get<{ Params: { app: string; version: Channel } }>('/registry/:app/:version/latest', { schema: schemas.latest }, async (req, reply) => {
    await requireAppOrOAuth(deps, req);
    const found = await registries.latestVersion(req.params.app, req.params.version);
    if (!found) throw new NotFound(`no app registry has a ${req.params.version} version of ${req.params.app}`);
    return sendJson(req, reply, found, false);
  });

  const asset = (path: (p: Record<string, string>) => AssetPath, ofVersion: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    await requireIconReader(deps, req);
    const p = req.params as Record<string, string>;
    const slug = p.app as string;
    const version = ofVersion ? (p.version as string) : null;
    const found = version !== null && !channelOf(version) ? null : await registries.asset(slug, version, path(p));
    if (!found) throw new NotFound(`no app registry has this file of ${slug}`);
    reply.header('Cache-Control', ofVersion ? IMMUTABLE : A_DAY).type(found.contentType);
    if (found.size !== undefined) reply.header('Content-Length', String(found.size));
    return reply.send(found.body);
  };
  for (const ofVersion of [false, true]) {
    const at = ofVersion ? '/registry/:app/:version' : '/registry/:app';
    app.get(`${at}/icon`, { schema: schemas.icon('icon', ofVersion) }, asset(() => 'icon', ofVersion));
    app.get(`${at}/partnership_icon`, { schema: schemas.icon('partnership icon', ofVersion) }, asset(() => 'partnership_icon', ofVersion));
    app.get(`${at}/screenshots/*`, { schema: schemas.screenshot(ofVersion) }, asset((p) => `screenshots/${p['*'] ?? ''}`, ofVersion));
  }
}
