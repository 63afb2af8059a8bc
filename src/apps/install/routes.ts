/**
 * `/apps` and `/konnectors` (cozy-apps.md §4.1), JSON-API: list, read, install (POST), update (PUT),
 * uninstall (DELETE). POST and PUT answer 202 with the doc once the package is fetched, or, with
 * `Accept: text/event-stream`, stream each state until the end (progress.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest, NotFound } from '../../common/errors.js';
import { addJsonParser } from '../../common/json-body.js';
import { JSONAPI } from '../../common/schemas.js';
import type { OwnerDeps } from '../../auth/owner.js';
import type { Instance } from '../../instances/types.js';
import { appOrigin, type SubdomainMode } from '../hosts.js';
import { findApp, listApps } from '../repo.js';
import { KIND, type AppDoc, type AppKind } from '../types.js';
import { callerOf, mayInstall, mayRead } from './access.js';
import type { Installer, Operation } from './installer.js';
import { registerIconRoutes, type IconDeps } from './icon.js';
import { lazyUpdate, type LatestVersion } from './lazy.js';
import { registerLogsRoutes } from './logs.js';
import { registerDownloadRoutes, type DownloadDeps } from './download.js';
import { uninstallKonnector, type OnDeleteDeps } from './on-delete.js';
import { SSE, streamProgress, wantsProgress } from './progress.js';
import { registerKonnectorTriggerRoute, type KonnectorTriggerDeps } from './konnector-trigger.js';
import { registerAppPermissionRoutes } from './permission-routes.js';
import * as S from './schemas.js';
import type { OnState } from './types.js';

export interface AppsRoutesDeps extends OwnerDeps, KonnectorTriggerDeps, IconDeps, OnDeleteDeps, DownloadDeps {
  installer: Installer;
  subdomains: SubdomainMode;
  allowInstallViaPermission: boolean;
  /** The registries' latest version of a channel (the lazy update of registry apps); none: no lazy update. */
  latestVersion?: LatestVersion;
}

type SlugReq = FastifyRequest<{ Params: { slug: string }; Querystring: Record<string, string | undefined> }>;

/** The JSON-API resource of an app's doc, with its links (`related` once it can be opened). */
export function appResource(kind: AppKind, doc: AppDoc, instance: Instance, scheme: string, mode: SubdomainMode): Record<string, unknown> {
  const { _id, _rev, ...attributes } = doc;
  const base = `${KIND[kind].route}/${doc.slug}`;
  const links: Record<string, string> = { self: base, icon: `${base}/icon/${doc.version}` };
  if (kind === 'webapp' && (doc.state === 'ready' || doc.state === 'installed')) links.related = `${appOrigin(instance.domain, doc.slug, mode, scheme)}/`;
  if (kind === 'konnector') links.permissions = `/permissions/konnectors/${doc.slug}`;
  return { type: KIND[kind].doctype, id: _id, attributes, meta: { rev: _rev }, links };
}

function bool(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

function parametersOf(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new BadRequest('Parameters must be JSON');
  }
}

export function registerAppsRoutes(app: FastifyInstance, deps: AppsRoutesDeps): void {
  void app.register(async (scope) => {
    addJsonParser(scope, JSONAPI);
    for (const kind of ['webapp', 'konnector'] as const) registerKind(scope, deps, kind);
    registerKonnectorTriggerRoute(scope, deps);
  });
  registerAppPermissionRoutes(app, deps);
}

function registerKind(scope: FastifyInstance, deps: AppsRoutesDeps, kind: AppKind): void {
  const { doctype, route } = KIND[kind];
  const asResource = (req: FastifyRequest, instance: Instance, doc: AppDoc) => appResource(kind, doc, instance, req.protocol, deps.subdomains);
  registerIconRoutes(scope, deps, kind);
  registerLogsRoutes(scope, deps, kind);
  registerDownloadRoutes(scope, deps, kind);

  scope.get<{ Querystring: { limit?: string; start_key?: string } }>(`${route}/`, { schema: S.list(kind) }, async (req, reply) => {
    const { instance, set } = await callerOf(deps, req, 'GET');
    mayRead(set, doctype);
    const limit = Math.min(Math.max(Number.parseInt(req.query.limit ?? '100', 10) || 100, 1), 1000);
    const docs = await listApps(deps.storeOf(instance), kind, { limit: limit + 1, ...(req.query.start_key ? { startSlug: req.query.start_key } : {}) });
    const page = docs.slice(0, limit);
    const body: Record<string, unknown> = { data: page.map((d) => asResource(req, instance, d)), meta: { count: page.length } };
    const next = docs[limit];
    if (next) body.links = { next: `${route}/?start_key=${encodeURIComponent(next.slug)}&limit=${limit}` };
    return reply.type(JSONAPI).send(body);
  });

  scope.get(`${route}/:slug`, { schema: S.get(kind) }, async (req: SlugReq, reply) => {
    const { instance, set } = await callerOf(deps, req, 'GET');
    mayRead(set, doctype, `${doctype}/${req.params.slug}`);
    const stored = await findApp(deps.storeOf(instance), kind, req.params.slug);
    if (!stored) throw new NotFound(`${req.params.slug} is not installed`);
    const doc = deps.latestVersion ? await lazyUpdate(deps.installer, deps.latestVersion, instance, kind, stored) : stored;
    return reply.type(JSONAPI).send({ data: asResource(req, instance, doc) });
  });

  const operate = async (req: SlugReq, reply: FastifyReply, start: (instance: Instance, onState: OnState) => Promise<Operation>) => {
    const { instance } = req;
    if (wantsProgress(req)) return streamProgress(reply, SSE, (onState) => start(instance!, onState), (doc) => asResource(req, instance!, doc));
    const op = await start(instance!, () => undefined);
    const doc = await op.fetched;
    return reply.code(202).type(JSONAPI).send({ data: asResource(req, instance!, doc) });
  };

  scope.post(`${route}/:slug`, { schema: S.install(kind) }, async (req: SlugReq, reply) => {
    const source = req.query.Source || `registry://${req.params.slug}/stable`;
    const { set } = await callerOf(deps, req, 'POST');
    mayInstall(set, 'POST', doctype, source, deps.allowInstallViaPermission);
    const parameters = kind === 'konnector' ? parametersOf(req.query.Parameters) : undefined;
    return operate(req, reply, (instance, onState) => deps.installer.install(instance, kind, req.params.slug, {
      source, deactivated: bool(req.query.Deactivated), ...(parameters !== undefined ? { parameters } : {}),
    }, onState));
  });

  scope.put(`${route}/:slug`, { schema: S.update(kind) }, async (req: SlugReq, reply) => {
    const source = req.query.Source || undefined;
    const { instance, set } = await callerOf(deps, req, 'PUT');
    const stored = source ?? (await findApp(deps.storeOf(instance), kind, req.params.slug))?.source ?? null;
    mayInstall(set, 'PUT', doctype, stored, deps.allowInstallViaPermission);
    return operate(req, reply, (inst, onState) => deps.installer.update(inst, kind, req.params.slug, {
      ...(source ? { source } : {}), permissionsAcked: bool(req.query.PermissionsAcked),
    }, onState));
  });

  scope.delete(`${route}/:slug`, { schema: S.uninstall(kind) }, async (req: SlugReq, reply) => {
    const { instance, set } = await callerOf(deps, req, 'DELETE');
    mayInstall(set, 'DELETE', doctype, null, deps.allowInstallViaPermission);
    const { status, doc } = kind === 'konnector' ? await uninstallKonnector(deps, instance, req.params.slug) : { status: 200, doc: await deps.installer.uninstall(instance, kind, req.params.slug) };
    return reply.code(status).type(JSONAPI).send({ data: asResource(req, instance, doc) });
  });
}
