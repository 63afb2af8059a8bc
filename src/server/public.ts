/** The public HTTP server: instance by Host header, CORS, error mapping, the API routes. */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import type { Logger } from 'pino';
import { NotFound } from '../common/errors.js';
import { addJsonParser } from '../common/json-body.js';
import type { HearthConfig } from '../config/types.js';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import { registerDataRoutes, type DataDeps } from '../data/routes.js';
import { registerStatusRoutes, versionInfo, type StatusCheck } from '../status/routes.js';
import type { HearthMetrics } from '../ops/metrics.js';
import { registerOpenApi } from '../ops/openapi.js';
import { registerOAuthRoutes, type OAuthDeps } from '../oauth/routes.js';
import { registerAuthRoutes, type AuthDeps } from '../auth/routes.js';
import { registerPermissionRoutes } from '../permissions/routes.js';
import { registerSharePasswordRoute } from '../permissions/share-password.js';
import { registerWellKnownRoutes } from '../auth/well-known.js';
import { registerClientUsageRoutes } from '../oauth/usage-routes.js';
import { registerSharingRoutes } from '../sharings/routes.js';
import { registerContactsRoutes } from '../contacts/routes.js';
import { registerShortcutRoutes } from '../shortcuts/routes.js';
import { registerFilesRoutes } from '../files/http/routes.js';
import type { Vfs } from '../files/vfs.js';
import { registerDavRoutes } from '../files/dav/routes.js';
import { registerRegistryRoutes, registriesFromConfig, type Registries } from '../apps/registry/index.js';
import type { DavLockEngine } from '../files/dav/locks.js';
import { publicErrorHandler } from './http-errors.js';
import { clientErrorHandler, lingerOnEarlyAnswers } from './linger.js';
import { registerCompression } from './compression.js';
import { installSchemaCompilers, schemaOptions } from './validation.js';
import type { CompiledCode } from './schema-code.js';
import { logControllerFor } from './logger.js';
import { registerJobsRoutes } from '../jobs/routes.js';
import { RunLogs } from '../jobs/run-logs.js';
import { CLEAN_UPLOAD_SESSIONS } from '../jobs/workers/clean-upload-sessions.js';
import type { JobSystem } from './jobs.js';
import { registerSettingsRoutes } from '../settings/routes.js';
import type { Avatars } from '../settings/avatar.js';
import type { EmailChangeStore, InstanceSettingsStore } from '../instances/types.js';
import { registerNotificationRoutes } from '../notifications/routes.js';
import type { NotificationCenter } from '../notifications/center.js';
import { registerRealtimeRoutes } from '../realtime/routes.js';
import type { RealtimeHub } from '../realtime/hub.js';
import { noRegistry, registerIntentsRoutes, type RegistryWebapps } from '../apps/intents/routes.js';
import type { AppServing } from '../apps/serve/index.js';
import { registerAppHosts } from '../apps/serve/dispatch.js';
import { CLOSED_CSP } from '../apps/serve/csp.js';
import { appsParent } from '../apps/hosts.js';
import { registerAssetRoutes } from '../apps/assets/routes.js';
import type { Installer } from '../apps/install/installer.js';
import type { AppFileSource } from '../apps/types.js';
import type { AppCodeStore } from '../apps/code/store.js';
import { registerAppsRoutes } from '../apps/install/routes.js';
import { moveGate } from '../move/import/gate.js';
import { registerRequestInstance } from './request-instance.js';
import { registerImportRoutes } from '../move/import/routes.js';
import type { Imports } from '../move/import/service.js';
import type { MoveStateStore } from '../move/state.js';
import { registerMovedGate } from '../move/transfer/moved.js';
import { registerMoveTransferRoutes } from '../move/transfer/routes.js';
import type { TransferDeps } from '../move/transfer/deps.js';

declare module 'fastify' {
  interface FastifyRequest {
    instance: Instance | null;
  }
}

/** Routes that answer on any host (no instance needed). */
const GLOBAL = new Set(['/status', '/status/', '/version', '/version/', '/connection_check', '/openapi.json']);

export interface PublicDeps extends DataDeps {
  config: HearthConfig;
  /** Where the routes' compiled schemas are read (default dist/schemas). */
  schemaCode?: CompiledCode;
  registry: InstanceRegistry;
  logger: Logger;
  checks: StatusCheck[];
  oauth: Omit<OAuthDeps, 'perms' | 'session' | 'config'>;
  auth: Omit<AuthDeps, 'registry' | 'perms'>;
  /** The file systems of the instances, behind /files. */
  vfs: Vfs;
  /** The WebDAV locks (/dav/files/). */
  davLocks: DavLockEngine;
  /** The app registries (apps.registries) behind /registry; built from the configuration when absent. */
  appRegistries?: Registries;
  /** The job engine and scheduler, behind /jobs. */
  jobs: Pick<JobSystem, 'engine' | 'scheduler'> & Partial<Pick<JobSystem, 'housekeeping'>>;
  /** The settings document and theme (the registry), and the avatars (on disk, or in PostgreSQL) (/settings, /public/avatar). */
  settings: { store: InstanceSettingsStore; avatars: Avatars; wallpapers: Avatars; emailChanges: EmailChangeStore };
  /** The notification center, behind /notifications. */
  notifications: NotificationCenter;
  /** Prometheus metrics (ops/metrics.ts): every response is timed by its route pattern. */
  metrics?: HearthMetrics;
  /** The realtime hub (built on the bus), behind /realtime. */
  realtime: RealtimeHub;
  /** The registries' web apps that could serve an intent (/intents availableApps); none when absent. */
  registryWebapps?: RegistryWebapps;
  /** Web apps on their own hosts, and the stack assets (src/apps/serve). */
  apps: AppServing;
  /** The installer of web apps and konnectors, behind /apps and /konnectors. */
  installer: Installer;
  /** The files of installed apps (their icons), and their code store (downloads). */
  appFiles: AppFileSource;
  appCode: AppCodeStore;
  /** Imports (move/import): the routes, and the gate of the instances that import data or are being moved. */
  imports?: { imports: Imports; moveStates: MoveStateStore; audienceOf(instance: Instance, token: string): Promise<string | null> };
  /** A move between servers (move/transfer): its routes, and the 410 of a moved instance. */
  moveTransfer?: TransferDeps & { movedStates: Pick<MoveStateStore, 'get'> };
}

/**
 * cozy-stack's API headers (web/middlewares/secure.go): no sniffing, a closed CSP unless the route set
 * its own, HSTS for a year over https, and no Referer leaking from HTML pages.
 */
export function securityHeaders(req: Pick<FastifyRequest, 'protocol'> & { appHost?: boolean }, reply: Pick<FastifyReply, 'header' | 'getHeader'>): void {
  reply.header('X-Content-Type-Options', 'nosniff');
  // app hosts have their own CSP (apps/serve/csp.ts), or none with apps.cspDisabled
  if (!reply.getHeader('Content-Security-Policy') && !req.appHost) reply.header('Content-Security-Policy', CLOSED_CSP);
  if (req.protocol === 'https') reply.header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  const type = reply.getHeader('Content-Type');
  if (typeof type === 'string' && type.startsWith('text/html') && !reply.getHeader('Referrer-Policy')) reply.header('Referrer-Policy', 'no-referrer');
}

export async function buildPublicApp(deps: PublicDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: logControllerFor(deps.config),
    bodyLimit: deps.config.server.bodyLimit,
    routerOptions: { maxParamLength: 2048 },
    requestIdHeader: 'x-request-id',
    trustProxy: deps.config.server.trustProxy,
    return503OnClosing: true,
    clientErrorHandler,
  });
  lingerOnEarlyAnswers(app);
  app.decorateRequest('instance', null);
  // strict UTF-8; an empty body is accepted (PouchDB sends `PUT /db/` with a JSON content type and no body)
  addJsonParser(app, 'application/json', { allowEmpty: true });
  // a person's browser gets HTML pages for the stack's 404 and 503 (server/error-pages.ts), API clients cozy's JSON
  const handleError = publicErrorHandler({ subdomains: deps.config.apps.subdomains, defaultApp: (i, r) => deps.apps.defaultApp(i, r), installed: (i, slug) => deps.apps.server.installed(i, slug) });
  app.setErrorHandler(handleError);
  installSchemaCompilers(app, schemaOptions(deps.config.server, deps.schemaCode));
  app.setNotFoundHandler((req, reply) => handleError(new NotFound(`no route for ${req.method} ${req.url.split('?')[0]}`), req, reply));
  // first: the OpenAPI document is built from every route registered after it (ops/openapi.ts)
  await registerOpenApi(app, { version: versionInfo(deps.config.dev).version });
  deps.metrics?.instrument(app);
  // Browser PouchDB and web apps: credentials allowed, the origin reflected (cozy-stack's /data rules).
  await app.register(cors, {
    origin: true,
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: ['ETag', 'Content-Type', 'Content-Length', 'X-Request-Id', 'Location', 'Content-Range', 'Content-Disposition', 'Accept-Ranges', 'Last-Modified', 'Upload-Offset', 'Upload-Length', 'Upload-Expires'],
    maxAge: 86400,
  });
  // brotli or gzip for the answers built in memory from 1 KiB on (what streams is left alone: compression.ts)
  registerCompression(app, { threshold: 1024 });
  // the instance of the Host (its own or its app host's) and its move state, looked up once for every hook below
  const moveStates = deps.imports?.moveStates ?? deps.moveTransfer?.movedStates;
  registerRequestInstance(app, { registry: deps.registry, subdomains: deps.config.apps.subdomains, ...(moveStates ? { moveStates } : {}) });
  if (deps.imports) app.addHook('onRequest', moveGate(deps.imports));
  // a moved instance answers 410 on its own host and its apps' (move/transfer/moved.ts)
  if (deps.moveTransfer) registerMovedGate(app);
  registerAppHosts(app, { server: deps.apps.server });
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0] ?? '';
    if (!req.instance && !GLOBAL.has(path) && req.method !== 'OPTIONS') {
      throw new NotFound(`no instance is served at ${String(req.headers.host ?? '(no Host header)').slice(0, 300)}: check the domain, or create it with \`hearth instances add\``);
    }
  });
  app.addHook('onSend', async (req, reply, payload) => {
    securityHeaders(req, reply);
    return payload;
  });
  registerStatusRoutes(app, deps.checks, deps.config.dev);
  registerDataRoutes(app, deps);
  registerOAuthRoutes(app, { ...deps.oauth, config: deps.config, perms: deps.perms, session: { registry: deps.registry, sessions: deps.auth.sessions, subdomains: deps.config.apps.subdomains } });
  registerAuthRoutes(app, { ...deps.auth, registry: deps.registry, perms: deps.perms });
  registerPermissionRoutes(app, { perms: deps.perms });
  registerSharePasswordRoute(app, { perms: deps.perms, limiter: deps.auth.limiter, subdomains: deps.config.apps.subdomains });
  registerWellKnownRoutes(app, { config: deps.config });
  registerSharingRoutes(app, { perms: deps.perms });
  registerContactsRoutes(app, { perms: deps.perms, storeOf: deps.storeOf });
  registerShortcutRoutes(app, { perms: deps.perms, vfs: deps.vfs });
  registerClientUsageRoutes(app, { clients: deps.oauth.clients, config: deps.config, settings: deps.settings.store, registry: deps.registry, sessions: deps.auth.sessions, perms: deps.perms });
  registerFilesRoutes(app, {
    perms: deps.perms, vfs: deps.vfs, linkSecret: async (instance) => (await deps.registry.secrets(instance)).session,
    framedBy: (host, scheme) => `${scheme}://*.${appsParent(host, deps.config.apps.subdomains)}`,
    // an upload session left behind goes at its expiry, by the housekeeping
    uploadExpires: (instance, at) => deps.jobs.housekeeping?.mark(instance, CLEAN_UPLOAD_SESSIONS, at),
  });
  registerDavRoutes(app, { perms: deps.perms, vfs: deps.vfs, locks: deps.davLocks });
  registerRegistryRoutes(app, { perms: deps.perms, registry: deps.registry, sessions: deps.auth.sessions, registries: deps.appRegistries ?? registriesFromConfig(deps.config, deps.logger) });
  registerJobsRoutes(app, { perms: deps.perms, engine: deps.jobs.engine, scheduler: deps.jobs.scheduler, limiter: deps.auth.limiter, runLogs: new RunLogs(deps.storeOf) });
  registerSettingsRoutes(app, {
    ...deps.settings, config: deps.config, bus: deps.bus, registry: deps.registry, sessions: deps.auth.sessions, perms: deps.perms, twoFactor: deps.auth.twoFactor, storeOf: deps.storeOf, limiter: deps.auth.limiter, mailer: deps.auth.mailer,
  });
  registerNotificationRoutes(app, { center: deps.notifications, config: deps.config, storeOf: deps.storeOf, perms: deps.perms, registry: deps.registry, sessions: deps.auth.sessions });
  registerIntentsRoutes(app, { config: deps.config, perms: deps.perms, storeOf: deps.storeOf, registryWebapps: deps.registryWebapps ?? noRegistry });
  registerAssetRoutes(app, { assets: deps.apps.assets, settings: deps.settings.store, ...(deps.apps.contextAssets ? { contextAssets: deps.apps.contextAssets } : {}) });
  await registerRealtimeRoutes(app, { hub: deps.realtime, perms: deps.perms, vfs: deps.vfs, logger: deps.logger });
  if (deps.imports) registerImportRoutes(app, { ...deps.imports, perms: deps.perms });
  if (deps.moveTransfer) registerMoveTransferRoutes(app, deps.moveTransfer);
  registerAppsRoutes(app, { installer: deps.installer, files: deps.appFiles, code: deps.appCode, engine: deps.jobs.engine, logger: deps.logger, storeOf: deps.storeOf, perms: deps.perms, registry: deps.registry, sessions: deps.auth.sessions, scheduler: deps.jobs.scheduler, subdomains: deps.config.apps.subdomains, allowInstallViaPermission: deps.config.apps.allowInstallViaPermission, ...(deps.appRegistries ? { latestVersion: (slug, channel) => deps.appRegistries!.latestVersion(slug, channel), registryVersion: (slug, v) => deps.appRegistries!.resolveVersion(slug, v) } : {}) });
  return app;
}
