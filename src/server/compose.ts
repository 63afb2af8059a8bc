/**
 * The composition root: builds every component with plain constructors and
 * wires them together. Nothing else creates infrastructure.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { divertBus, InProcessBus, mergeBuses, type EventBus } from '../common/bus.js';
import type { HearthConfig } from '../config/types.js';
import { TokenService } from '../auth/tokens.js';
import { SqliteSessionStore, sessionCookieValue, sessionIdFromCookie, type SessionStore } from '../auth/sessions.js';
import { PgSessionStore } from '../auth/sessions-pg.js';
import { OffThreadCloser } from '../data/sqlite/closer.js';
import { SqliteDocStoreFactory } from '../data/sqlite/factory.js';
import type { DocStore } from '../data/store.js';
import { SqliteInstanceRegistry } from '../instances/registry-sqlite.js';
import { PgInstanceRegistry } from '../instances/registry-pg.js';
import { InProcessInvalidation } from '../common/invalidation.js';
import { registerAdminRoutes } from '../instances/admin-routes.js';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import { PermissionResolver } from '../permissions/resolve.js';
import { LOGIN_LOCKOUT, LOGIN_LOCKOUT_SOURCES, LoginLockOut, MemoryRateLimiter } from '../limits/index.js';
import { OAuthClients } from '../oauth/clients.js';
import { PgAccessCodes } from '../oauth/codes-pg.js';
import type { Mailer } from '../mail/mailer.js';
import { runStatus, versionInfo, type StatusCheck } from '../status/routes.js';
import { errorHandler } from './http-errors.js';
import { installSchemaCompilers } from './validation.js';
import { createLogger, logControllerFor } from './logger.js';
import { ensureDevInstance, listenOrExplain } from './dev-instance.js';
import { buildPublicApp, securityHeaders } from './public.js';
import { InProcessLocks } from '../common/locks.js';
import { addJsonParser } from '../common/json-body.js';
import { LocalBlobStore } from '../files/blobs/local.js';
import { Vfs } from '../files/vfs.js';
import { SqliteLockEngine } from '../files/dav/locks-sqlite.js';
import { PgLockEngine } from '../files/dav/locks-pg.js';
import { fsck } from '../files/fsck.js';
import { accountTransforms } from '../jobs/sandbox/accounts.js';
import { chainTransforms } from '../data/http/context.js';
import { fileDocTransforms } from '../files/data-view.js';
import { createJobSystem, type JobSystem } from './jobs.js';
import { registerJobsAdminRoutes } from '../jobs/admin-routes.js';
import { JOBS_DOCTYPE } from '../jobs/types.js';
import { buildWorkers, publicUrl } from './workers.js';
import { NotificationCenter } from '../notifications/center.js';
import { thumbnailJobFor } from '../files/thumbnails/workers.js';
import { AvatarStore } from '../settings/avatar.js';
import { HearthMetrics } from '../ops/metrics.js';
import { InProcessHub, type RealtimeHub } from '../realtime/hub.js';
import { realtimeView } from '../realtime/view.js';
import { opsStatusChecks, smtpConfigured, smtpProbe } from '../ops/status-checks.js';
import { registerOpsAdminRoutes } from '../ops/admin-routes.js';
import { registerMailAdminRoutes } from '../mail/admin-routes.js';
import { createAppServing } from '../apps/serve/index.js';
import type { AppFileSource } from '../apps/types.js';
import { sessionCookieOf } from '../auth/session-http.js';
import { LocalAppCodeStore } from '../apps/code/local-store.js';
import { StoredAppFiles } from '../apps/code/file-source.js';
import type { AppCodeStore } from '../apps/code/store.js';
import { Installer } from '../apps/install/installer.js';
import { appCodeOf, dropRunRefs, installedCodeOf } from '../apps/install/code.js';
import { registerAppsAdminRoutes } from '../apps/install/admin-routes.js';
import { builtinRegistryDir, registriesFromConfig } from '../apps/registry/index.js';
import { BuiltinApps } from '../apps/builtin/builtin.js';
import { BuiltinState } from '../apps/builtin/state.js';
import { PgBuiltinState } from '../apps/builtin/state-pg.js';
import { inRegistry, registryWebapps } from '../apps/registry/offers.js';
import type { Channel } from '../apps/registry/types.js';
import { lazyUpdate } from '../apps/install/lazy.js';
import { watchAccountDeletions } from '../apps/install/account-deleted.js';
import { createPgPool } from '../engines/postgres.js';
import { createRedisConnections } from '../engines/redis.js';

export interface Hearth {
  config: HearthConfig;
  logger: Logger;
  bus: EventBus;
  registry: InstanceRegistry;
  tokens: TokenService;
  sessions: SessionStore;
  lockout: LoginLockOut;
  perms: PermissionResolver;
  mailer: Mailer;
  /** For the CLI, the admin API and tests: an app token bound to a new "hearth-cli" session, and that session's cookie value. */
  appToken(instance: Instance, slug: string): Promise<{ token: string; session_cookie: string }>;
  storeOf(instance: Instance): DocStore;
  /** How many instance databases are open now (a bounded pool: data/sqlite/factory.ts). */
  openStores(): number;
  /** The file systems of the instances (io.cozy.files and their blobs). */
  vfs: Vfs;
  /** The job engine and the scheduler of triggers. */
  jobs: JobSystem;
  /** The notification center (POST /notifications; `pushStack` for the stack's own `system` notifications). */
  notifications: NotificationCenter;
  /** Prometheus metrics (admin GET /metrics); `metrics.countRealtimeConnections(fn)` wires the realtime gauge. */
  metrics: HearthMetrics;
  /** The realtime hub (WebSocket and SSE subscribers, fed by the bus); connectionCount() feeds the metrics. */
  realtime: RealtimeHub;
  /** An instance's address in the links built outside a request (COZY_URL, notification mails), on the port the public app listens on. */
  publicUrl(instance: Instance): string;
  /** The code of installed apps (src/apps/code), and the installer of web apps and konnectors (src/apps/install). */
  appCode: AppCodeStore;
  installer: Installer;
  /** The built-in apps (src/apps/builtin): installed on each new instance; `upgradeAll()` at start brings every instance up to date. */
  builtinApps: BuiltinApps;
  publicApp: FastifyInstance;
  adminApp: FastifyInstance;
  close(): Promise<void>;
}

/** What a caller may plug in: `appFiles`, where installed web apps' files are read (the code store). */
export interface HearthOptions {
  appFiles?: AppFileSource;
  /**
   * Tests only, while issue 16's engines are wired one by one: start with a scale-out engine even if some part of its
   * kind still runs on the embedded engine (the `notYet` check below).
   */
  partialEngines?: boolean;
}

export async function createHearth(config: HearthConfig, logger: Logger = createLogger(config), opts: HearthOptions = {}): Promise<Hearth> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // the scale-out connections, one of each per process, shared by every part that keeps state there (src/engines)
  const pgPool = config.docs.engine === 'postgres' && config.docs.url ? createPgPool({ url: config.docs.url, max: config.docs.poolSize, name: 'serve' }) : null;
  const redis = config.coordination.engine === 'redis' && config.coordination.url ? createRedisConnections(config.coordination.url, config.coordination.prefix, 'serve') : null;
  // the scale-out engines arrive one by one (issue 16): until one is wired here, naming it is refused at start
  const notYet = [
    config.docs.engine !== 'sqlite' ? `docs.engine ${config.docs.engine}` : null,
    config.blobs.engine !== 'local' ? `blobs.engine ${config.blobs.engine}` : null,
    config.coordination.engine !== 'memory' ? `coordination.engine ${config.coordination.engine}` : null,
  ].filter((x) => x !== null);
  if (notYet.length > 0 && !opts.partialEngines) {
    await Promise.all([pgPool?.end(), redis?.close()]);
    throw new Error(`${notYet.join(', ')}: not available in this build of hearth yet`);
  }
  const bus = new InProcessBus();
  const realtime = new InProcessHub(bus, realtimeView);
  // one thread closes instance databases and checkpoints registry.sqlite and jobs.sqlite, off the event loop
  const sqliteThread = new OffThreadCloser();
  // caches several processes keep (the registry's hosts and secrets) are dropped through it when any process writes
  const invalidation = new InProcessInvalidation();
  // docs.engine postgres: the registry in the shared schema `hearth` of the documents' database (the name stays for the merge)
  const sqliteRegistry = pgPool ? new PgInstanceRegistry(pgPool, invalidation) : new SqliteInstanceRegistry(join(dataDir, 'registry.sqlite'), { checkpoints: sqliteThread });
  // the job mirror's writes (jobs/mirror.ts) repeat the engine's io.cozy.jobs events: only /data's changes feeds hear them
  const mirrorEvents = new InProcessBus();
  const stores = new SqliteDocStoreFactory(dataDir, divertBus(bus, new Set([JOBS_DOCTYPE]), mirrorEvents), {
    sqliteThread,
    attachmentMaxBytes: config.data.attachmentMaxBytes,
    groupCommitMs: config.data.groupCommitMs,
    maxOpenStores: config.data.maxOpenStores,
  });
  const sessions: SessionStore = pgPool ? new PgSessionStore(pgPool) : new SqliteSessionStore(join(dataDir, 'sessions.sqlite'));
  const davLocks = pgPool ? new PgLockEngine(pgPool) : new SqliteLockEngine(join(dataDir, 'dav-locks.sqlite'));
  const lockout = new LoginLockOut({ perSource: LOGIN_LOCKOUT, perInstance: LOGIN_LOCKOUT_SOURCES });
  const storeOf = (instance: Instance) => stores.open(instance.domain, instance.id);
  const appCode = new LocalAppCodeStore({ dir: join(dataDir, 'apps-code'), dbFile: join(dataDir, 'apps-code.sqlite') });
  const appFiles = new StoredAppFiles(appCode);
  await dropRunRefs(appCode);
  // blobs live next to docs.sqlite, in instances/<id>/files/: destroying an instance removes both
  // thumbnails in instances/<id>/thumbs/, beside the files' blobs (files/thumbnails/state.ts)
  const blobs = new LocalBlobStore(join(dataDir, 'instances'));
  const thumbs = new LocalBlobStore(join(dataDir, 'instances'), 'thumbs');
  const vfs = new Vfs({
    storeOf, blobs, thumbs,
    locks: new InProcessLocks(), versions: config.files.versions,
  });
  // Destroying an instance also removes its data, in steps that can be taken again: the first, durable, takes it out
  // of the registry (its domain stays taken); a process that dies before the last finishes at its next start.
  const finishDestroy = async (instance: Instance) => {
    await builtinState.forget(instance.id);
    await jobs.dropInstance(instance.id);
    await appCode.releaseInstance(instance.id);
    await appCode.gc();
    await stores.destroy(instance.id);
    await sessions.deleteAll(instance);
    await sessions.events.deleteAll(instance);
    await davLocks.dropNamespace(instance.id);
    await sqliteRegistry.endDestroy(instance.id);
  };
  // what the stack did with the built-in apps on each instance (apps/builtin/state.ts)
  const builtinState = pgPool ? new PgBuiltinState(pgPool) : new BuiltinState(join(dataDir, 'apps-builtin.sqlite'));
  const registry: InstanceRegistry = Object.assign(Object.create(sqliteRegistry) as InstanceRegistry, {
    // a new instance (admin API, CLI, the dev instance) gets the built-in apps, in the background
    async create(input: Parameters<InstanceRegistry['create']>[0]) {
      const instance = await sqliteRegistry.create(input);
      builtinApps.schedule(instance);
      return instance;
    },
    async destroy(domain: string) {
      await finishDestroy(await sqliteRegistry.beginDestroy(domain));
    },
  });
  const tokens = new TokenService(registry);
  const mailer = lazyMailer(config);
  // App tokens are valid only with the cookie of the session they were issued for.
  const sessionIdOf = async (instance: Instance, req: { headers: Record<string, string | string[] | undefined> }): Promise<string | null> => {
    const value = sessionCookieOf(req.headers as { cookie?: string }, instance, config.apps.subdomains);
    if (!value) return null;
    const id = sessionIdFromCookie((await registry.secrets(instance)).session, value);
    const session = id ? await sessions.get(id) : null;
    if (!session || session.instanceId !== instance.id) return null;
    await sessions.touch(session);
    return session.id;
  };
  const perms = new PermissionResolver(tokens, storeOf, { sessionIdOf, cookieSecret: async (instance) => (await registry.secrets(instance)).session });
  const appSession = async (instance: Instance) => {
    const session = await sessions.create(instance, { userAgent: 'hearth-cli', ip: null, kind: 'app-token' });
    return { id: session.id, cookie: sessionCookieValue((await registry.secrets(instance)).session, session.id) };
  };
  const appToken = async (instance: Instance, slug: string) => {
    const { id, cookie } = await appSession(instance);
    return { token: await tokens.issue(instance, { aud: 'app', sub: slug, session_id: id }), session_cookie: cookie };
  };
  const checks: StatusCheck[] = [
    { name: 'registry', check: () => sqliteRegistry.ping() },
    {
      name: 'fs',
      check: async () => {
        const start = performance.now();
        const probe = join(dataDir, `.status-${process.pid}`);
        writeFileSync(probe, 'ok');
        readFileSync(probe);
        rmSync(probe);
        return performance.now() - start;
      },
    },
  ];
  // the public app, built below, once it listens: a dev instance restarted on another port is linked on this one
  const listening = () => {
    const address = publicApp.server.address();
    return address !== null && typeof address === 'object' ? address.port : null;
  };
  const linkOf = (instance: Instance) => publicUrl(instance, listening());
  // its worker delivers the notifications of `at`; it reads the job system when it runs (built just below)
  const notifications = new NotificationCenter({ config, storeOf, logger, link: linkOf, jobs: () => jobs, secret: async (instance) => (await registry.secrets(instance)).session });
  const jobs: JobSystem = createJobSystem({
    dataDir, bus, logger, registry: sqliteRegistry, trashRetentionDays: config.files.trashRetentionDays, checkpoints: sqliteThread,
    workers: [...buildWorkers({ config, vfs, bus, mailer, storeOf, perms, tokens, registry: sqliteRegistry, logger, linkSecret: async (instance) => (await registry.secrets(instance)).session, publicUrl: linkOf, installed: installedCodeOf(storeOf, appCode) }), notifications.worker()],
    eventHooks: [{ doctype: 'io.cozy.files', jobFor: thumbnailJobFor }],
    mirror: {
      storeFor: async (domain, instanceId) => {
        const instance = await sqliteRegistry.get(domain);
        return instance?.id === instanceId ? storeOf(instance) : null;
      },
    },
  });
  const shutdown = new AbortController();
  const builtinDir = builtinRegistryDir(config, logger);
  const appRegistries = registriesFromConfig(config, logger, { builtinDir });
  const installer = new Installer({
    storeOf, locks: new InProcessLocks(), perms, triggers: jobs.scheduler, skipPermissionsCheck: config.apps.permissionsSkipVerification,
    code: appCodeOf(appCode, { dev: config.dev, limits: { maxEntries: config.apps.maxEntries, maxUnpackedBytes: config.apps.maxUnpackedBytes }, resolveRegistry: (slug, v) => appRegistries.resolveVersion(slug, v), openRegistryTarball: (v) => appRegistries.openTarball(v as Parameters<typeof appRegistries.openTarball>[0]) }),
  });
  const builtinApps = new BuiltinApps({
    dir: builtinDir, state: builtinState, installer, registry: sqliteRegistry, logger, startedAt: new Date(),
    first: config.settings.defaultRedirection.split('/')[0] ?? 'home',
  });
  const oauth = {
    clients: new OAuthClients(storeOf, async (instance) => (await registry.secrets(instance)).session), tokens, limiter: new MemoryRateLimiter(),
    // docs.engine postgres: a code issued by one process is taken by any (oauth/codes-pg.ts); in memory otherwise
    ...(pgPool ? { codes: new PgAccessCodes(pgPool) } : {}),
  };
  checks.push(...opsStatusChecks({
    jobs: jobs.engine.broker, sessions,
    firstInstance: async () => (await registry.page({ limit: 1 }))[0] ?? null,
    stillThere: async (instance) => (await sqliteRegistry.get(instance.domain))?.id === instance.id,
    pingDocs: (instance) => stores.open(instance.domain, instance.id).ping(),
    ...(smtpConfigured(config) ? { smtpProbe: () => smtpProbe(config.mail) } : {}),
  }));
  const metrics = new HearthMetrics({ dataDir, instanceCount: () => registry.count() });
  const unobserveJobs = metrics.observeJobs(bus);
  const unwatchAccounts = watchAccountDeletions({ bus, instanceOf: (domain) => sqliteRegistry.get(domain), storeOf, scheduler: jobs.scheduler, engine: jobs.engine, logger });
  metrics.countRealtimeConnections(() => realtime.connectionCount());
  // the registry's side of serving and intents: the store's page for a missing app, the lazy update of an index
  // (as on GET /apps/:slug), the web apps that could serve an intent
  const latest = (slug: string, channel: Channel) => appRegistries.latestVersion(slug, channel);
  const apps = createAppServing({
    config, registry, sessions, tokens, perms, storeOf, settings: sqliteRegistry, files: opts.appFiles ?? appFiles,
    inRegistry: (_instance, slug) => inRegistry(appRegistries)(slug),
    lazyUpdate: (instance, app) => lazyUpdate(installer, latest, instance, 'webapp', app),
  });
  const publicApp = await buildPublicApp({ apps, installer, appFiles, appCode, appRegistries, registryWebapps: registryWebapps(appRegistries), notifications, metrics, realtime, config, registry, logger, checks, bus: mergeBuses(bus, mirrorEvents), perms, storeOf, oauth, auth: { sessions, lockout, limiter: oauth.limiter, mailer, twoFactor: sqliteRegistry, passphraseTokens: sqliteRegistry, subdomains: config.apps.subdomains, defaultApp: apps.defaultApp }, vfs, davLocks, shutdown: shutdown.signal, jobs,
    // avatars in instances/<id>/avatar/, removed with the instance's folder
    settings: { store: sqliteRegistry, avatars: new AvatarStore(join(dataDir, 'instances')) }, transforms: chainTransforms(accountTransforms(async (instance) => (await registry.secrets(instance)).session), fileDocTransforms) });
  const adminApp = Fastify({ loggerInstance: logger.child({ server: 'admin' }) as FastifyBaseLogger, logController: logControllerFor(config), bodyLimit: 1024 * 1024 });
  adminApp.setErrorHandler(errorHandler);
  addJsonParser(adminApp, 'application/json');
  installSchemaCompilers(adminApp, { serializeResponses: config.server.serializeResponses });
  adminApp.addHook('onSend', async (req, reply, payload) => {
    securityHeaders(req, reply);
    return payload;
  });
  await registerAdminRoutes(adminApp, {
    config,
    registry,
    tokens,
    grant: (instance, kind, slug, scope) => perms.grant(instance, kind, slug, scope),
    appSession,
    status: () => runStatus(checks),
    version: versionInfo(config.dev),
    unlockLogin: (instance) => lockout.unlock(instance.id),
    fsck: (instance, clean) => fsck(vfs.fs, instance, { clean }),
  });
  registerJobsAdminRoutes(adminApp, { registry, engine: jobs.engine, scheduler: jobs.scheduler, bus });
  registerMailAdminRoutes(adminApp, { dataDir, registry });
  registerAppsAdminRoutes(adminApp, { registry, installer, storeOf, subdomains: config.apps.subdomains });
  await registerOpsAdminRoutes(adminApp, { metrics, publicDocument: () => publicApp.openApiDocument(), version: versionInfo(config.dev).version, exampleInstance: config.dev ? config.devInstance : 'alice.example.org' });
  for (const instance of await sqliteRegistry.pendingDestroys()) {
    logger.warn({ domain: instance.domain, instance_id: instance.id }, 'finishing the destroy of an instance that a stop cut short');
    await finishDestroy(instance);
  }
  await jobs.start();
  let closing: Promise<void> | null = null;
  return {
    config, logger, bus, registry, tokens, sessions, lockout, perms, mailer, appToken, storeOf, openStores: () => stores.openCount(), vfs, jobs, notifications, metrics, realtime, publicUrl: linkOf, appCode, installer, builtinApps, publicApp, adminApp,
    close() {
      closing ??= (async () => {
        shutdown.abort();
        await builtinApps.close();
        await Promise.all([publicApp.close(), adminApp.close()]);
        realtime.close();
        unwatchAccounts();
        await jobs.close();
        unobserveJobs();
        await stores.close();
        await mailer.close();
        await sqliteRegistry.close();
        await sqliteThread.shutdown();
        await sessions.close();
        davLocks.close();
        await builtinState.close();
        await Promise.all([blobs.close(), thumbs.close(), appCode.close()]);
        await Promise.all([pgPool?.end(), redis?.close()]);
      })();
      return closing;
    },
  };
}

/** `hearth serve`: both servers listening (ports bound before anything is created or printed), and in --dev the default instance. */
export async function startHearth(config: HearthConfig): Promise<{ publicUrl: string; adminUrl: string; close(): Promise<void> }> {
  const hearth = await createHearth(config);
  let publicUrl: string, adminUrl: string;
  try {
    publicUrl = await listenOrExplain(hearth.publicApp, config.server, 'public');
    adminUrl = await listenOrExplain(hearth.adminApp, config.admin, 'admin');
    const port = (hearth.publicApp.server.address() as AddressInfo).port;
    if (config.dev) await ensureDevInstance({ config, registry: hearth.registry, tokens: hearth.tokens, port, adminUrl });
  } catch (e) {
    await hearth.close();
    throw e;
  }
  // once listening, in the background: every instance gets the built-in apps it lacks and their newer builds
  hearth.builtinApps.upgradeAll().catch((e: unknown) => hearth.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'the built-in apps pass stopped: the next start finishes it'));
  hearth.logger.info({ publicUrl, adminUrl }, 'hearth is ready');
  return { publicUrl, adminUrl, close: () => hearth.close() };
}

/** nodemailer costs ~15 MB of RSS: load it on the first mail, not at start-up. */
function lazyMailer(config: HearthConfig): Mailer {
  let loaded: Promise<Mailer> | null = null;
  const get = () => (loaded ??= import('../mail/index.js').then((m) => m.createMailer(config)));
  return {
    send: async (mail) => (await get()).send(mail),
    ping: async () => (await get()).ping(),
    close: async () => {
      if (loaded) await (await loaded).close();
    },
  };
}
