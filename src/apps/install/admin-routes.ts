/**
 * The admin API's apps routes (behind its Basic auth), for `hearth apps|konnectors install|update|uninstall|ls`:
 * `/instances/:domain/apps[/:slug]` and `/instances/:domain/konnectors[/:slug]`. Install and update stream their
 * progress as NDJSON lines (progress.ts) until the end; the admin may use any source the server accepts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFound } from '../../common/errors.js';
import { content, openObject, params, query, type RouteSchema } from '../../common/schemas.js';
import { findInstance } from '../../instances/find.js';
import type { InstanceRegistry } from '../../instances/types.js';
import type { DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { SubdomainMode } from '../hosts.js';
import { findApp, listApps } from '../repo.js';
import { KIND } from '../types.js';
import type { Installer } from './installer.js';
import { NDJSON, streamProgress } from './progress.js';
import { appResource } from './routes.js';

export interface AppsAdminDeps {
  registry: InstanceRegistry;
  installer: Installer;
  storeOf(instance: Instance): DocStore;
  subdomains: SubdomainMode;
}

const tags = ['admin'];
const one = { description: 'The app', type: 'object', properties: { data: openObject('The JSON-API resource') } };
const progress = content('NDJSON lines: {"type":"state","data":…} at each state, {"type":"error","error":"…"} on a failure', ['application/x-ndjson']);
const p = (slug: boolean) => params({ domain: 'The instance\'s domain', ...(slug ? { slug: 'The app\'s slug' } : {}) });
const schemas = (what: string): Record<'list' | 'install' | 'update' | 'uninstall', RouteSchema> => ({
  list: { summary: `The installed ${what}s of an instance`, tags, params: p(false), response: { 200: { description: 'The list', type: 'object', properties: { data: { type: 'array', items: openObject('An app') } } } } },
  install: { summary: `Installs a ${what}, streaming its progress`, tags, params: p(true), querystring: query({ Source: 'The source (default registry://<slug>/stable)', Deactivated: 'true: end state installed' }), response: { 200: progress } },
  update: { summary: `Updates a ${what}, streaming its progress`, tags, params: p(true), querystring: query({ Source: 'The source (default the stored one)', PermissionsAcked: 'true: accept new permissions' }), response: { 200: progress } },
  uninstall: { summary: `Uninstalls a ${what}`, tags, params: p(true), response: { 200: one } },
});

type Req = FastifyRequest<{ Params: { domain: string; slug: string }; Querystring: Record<string, string | undefined> }>;

export function registerAppsAdminRoutes(app: FastifyInstance, deps: AppsAdminDeps): void {
  for (const kind of ['webapp', 'konnector'] as const) {
    const base = `/instances/:domain${KIND[kind].route}`;
    const s = schemas(kind === 'webapp' ? 'web app' : 'konnector');
    const res = (req: FastifyRequest, instance: Instance) => (doc: Parameters<typeof appResource>[1]) => appResource(kind, doc, instance, req.protocol, deps.subdomains);
    app.get(base, { schema: s.list }, async (req: Req) => {
      const instance = await findInstance(deps.registry, req.params.domain);
      const docs = await listApps(deps.storeOf(instance), kind, { limit: 10_000 });
      return { data: docs.map(res(req, instance)) };
    });
    app.post(`${base}/:slug`, { schema: s.install }, async (req: Req, reply) => {
      const instance = await findInstance(deps.registry, req.params.domain);
      const source = req.query.Source || `registry://${req.params.slug}/stable`;
      return streamProgress(reply, NDJSON, (onState) => deps.installer.install(instance, kind, req.params.slug, { source, deactivated: req.query.Deactivated === 'true' }, onState), res(req, instance));
    });
    app.put(`${base}/:slug`, { schema: s.update }, async (req: Req, reply) => {
      const instance = await findInstance(deps.registry, req.params.domain);
      if (!(await findApp(deps.storeOf(instance), kind, req.params.slug))) throw new NotFound(`${req.params.slug} is not installed`);
      const opts = { ...(req.query.Source ? { source: req.query.Source } : {}), permissionsAcked: req.query.PermissionsAcked === 'true' };
      return streamProgress(reply, NDJSON, (onState) => deps.installer.update(instance, kind, req.params.slug, opts, onState), res(req, instance));
    });
    app.delete(`${base}/:slug`, { schema: s.uninstall }, async (req: Req) => {
      const instance = await findInstance(deps.registry, req.params.domain);
      return { data: res(req, instance)(await deps.installer.uninstall(instance, kind, req.params.slug)) };
    });
  }
}
