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
import { createCoordination } from '../coordination/index.js';
import type { RedisLocksOptions } from '../coordination/redis-locks.js';
import { Conflict } from '../common/errors.js';
import type { HearthConfig } from '../config/types.js';
import { DEFAULTS } from '../config/schema.js';
import type { CompiledCode } from './schema-code.js';
import { TokenService } from '../auth/tokens.js';
import { SqliteSessionStore, sessionCookieValue, sessionIdFromCookie, type SessionStore } from '../auth/sessions.js';
import { PgSessionStore } from '../auth/sessions-pg.js';
import { OffThreadCloser } from '../data/sqlite/closer.js';
import { SqliteDocStoreFactory } from '../data/sqlite/factory.js';
import { PgDocStoreFactory } from '../data/postgres/factory.js';
import type { DocStore } from '../data/store.js';
import { SqliteInstanceRegistry } from '../instances/registry-sqlite.js';
import { PgInstanceRegistry } from '../instances/registry-pg.js';
import { registerAdminRoutes } from '../instances/admin-routes.js';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import { PermissionResolver } from '../permissions/resolve.js';
import { LOGIN_LOCKOUT, LOGIN_LOCKOUT_SOURCES, type LoginLockOut } from '../limits/index.js';
import { OAuthClients } from '../oauth/clients.js';
import { clientsLimitExceeded } from '../oauth/clients-limit.js';
import { PgAccessCodes } from '../oauth/codes-pg.js';
import type { Mailer } from '../mail/mailer.js';
import { runStatus, versionInfo, type StatusCheck } from '../status/routes.js';
import { errorHandler } from './http-errors.js';
import { installSchemaCompilers, schemaOptions } from './validation.js';
import { createLogger, logControllerFor } from './logger.js';
import { ensureDevInstance, listenOrExplain } from './dev-instance.js';
import { buildPublicApp, securityHeaders } from './public.js';
import { addJsonParser } from '../common/json-body.js';
import { fixMallocThresholds } from '../common/malloc-trim.js';
import { IdleGc } from './idle-gc.js';
import { DataDirInUse, keptAlone, lockDataDir } from '../common/data-dir-lock.js';
import { blobStoreArea, createBlobStores, objectStoreConfigured } from '../files/blobs/engine.js';
import { ContextAssets } from '../apps/assets/context-assets.js';
import { PgContextAssetIndex, SqliteContextAssetIndex } from '../apps/assets/context-index.js';
import { registerContextAssetAdminRoutes } from '../apps/assets/admin-routes.js';
import { LocalBlobStore } from '../files/blobs/local.js';
import { HeldBlobStore } from '../files/blobs/held.js';
import { Vfs } from '../files/vfs.js';
import { CopyJournal, sweepCutCopies } from '../files/copy-journal.js';
import { SqliteCopyJournalStore } from '../files/copy-journal-sqlite.js';
import { PgCopyJournalStore } from '../files/copy-journal-pg.js';
import { SqliteLockEngine } from '../files/dav/locks-sqlite.js';
import { PgLockEngine } from '../files/dav/locks-pg.js';
import { fsck } from '../files/fsck.js';
import { accountTransforms } from '../jobs/sandbox/accounts.js';
import { chainTransforms } from '../data/http/context.js';
import { fileDocTransforms } from '../files/data-view.js';
import { createJobSystem, type JobSystem } from './jobs.js';
import { registerJobsAdminRoutes } from '../jobs/admin-routes.js';
import { triggerMirrorDoc } from '../jobs/mirror.js';
import { JOBS_DOCTYPE, TRIGGERS_DOCTYPE, type TriggerDoc, type WorkerDef } from '../jobs/types.js';
import { buildWorkers, publicUrl } from './workers.js';
import { NotificationCenter } from '../notifications/center.js';
import { thumbnailJobFor } from '../files/thumbnails/workers.js';
import { AvatarStore, processAvatar, WALLPAPER_LIMITS, type Avatars } from '../settings/avatar.js';
import { PgAvatars } from '../settings/avatar-pg.js';
import { HearthMetrics } from '../ops/metrics.js';
import { InProcessHub, type RealtimeHub } from '../realtime/hub.js';
import { realtimeView } from '../realtime/view.js';
import { opsStatusChecks, smtpConfigured, smtpProbe } from '../ops/status-checks.js';
import { registerOpsAdminRoutes } from '../ops/admin-routes.js';
import { registerMailAdminRoutes } from '../mail/admin-routes.js';
import { createAppServing } from '../apps/serve/index.js';
import type { AppFileSource } from '../apps/types.js';
import { sessionCookieOf } from '../auth/session-http.js';
import { startSecondFactor } from '../auth/twofactor-routes.js';
import { createAppCodeStore } from '../apps/code/engine.js';
import { StoredAppFiles } from '../apps/code/file-source.js';
import type { AppCodeStore } from '../apps/code/store.js';
import { Installer } from '../apps/install/installer.js';
import { cleanAllAccounts, konnectorUninstallWorker } from '../apps/install/on-delete.js';
import { appCodeOf, dropRunRefs, installedCodeOf, restoreCodeRefs } from '../apps/install/code.js';
import { reconcileLostIntents } from '../apps/install/reconcile.js';
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
import type { DocStoreFactory } from '../data/store.js';
import { SqliteInstanceEngines } from '../instances/engines-sqlite.js';
import { PgInstanceEngines } from '../instances/engines-pg.js';
import { blockedError, EngineRouter, type BlobEngine } from '../instances/routing.js';
import { Migrations } from '../instances/migrate.js';
import { registerMigrateAdminRoutes } from '../instances/migrate-routes.js';
import { SqliteMoveState, type MoveStateStore } from '../move/state.js';
import { PgMoveState } from '../move/state-pg.js';
import { CachedMoveStates } from '../move/cached.js';
import { Imports } from '../move/import/service.js';
import { reinstall } from '../move/import/install.js';
import { registerImportAdminRoutes } from '../move/import/admin-routes.js';
import { AccessCodes } from '../oauth/codes.js';
import { SqlitePending, type PendingStore } from '../move/transfer/pending.js';
import { PgPending } from '../move/transfer/pending-pg.js';
import { moveConsentFlow } from '../move/transfer/authorize.js';
import { createExports, openExportStore, type ExportsOptions } from '../move/export/index.js';
import { createMoveHooks } from '../move/transfer/hooks.js';
import { RetiredInstances } from '../move/transfer/retire.js';

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
  /** Moves instances between engines (instances/migrate.ts; the admin API's POST /instances/:domain/migrate). */
  migrations: Migrations;
  /** The built-in apps (src/apps/builtin): installed on each new instance; `upgradeAll()` at start brings every instance up to date. */
  builtinApps: BuiltinApps;
  /** Where each instance stands in an export/import/move (move/state.ts): importing, moving, moved. */
  moveStates: MoveStateStore;
  /** Imports of exports into instances (move/import). */
  imports: Imports;
  /** What a move between servers keeps from page to page (move/transfer/pending.ts). */
  movePending: PendingStore;
  /** The exports of the instances (move/export): io.cozy.exports, the `export` worker, the archive. */
  exports: ReturnType<typeof createExports>['exports'];
  publicApp: FastifyInstance;
  adminApp: FastifyInstance;
  close(): Promise<void>;
}

/** What a caller may plug in: `appFiles`, where installed web apps' files are read (the code store). */
export interface HearthOptions {
  appFiles?: AppFileSource;
  /** Tests only: more engines an instance can be moved to (instances/migrate.ts), by name, besides the configured ones. */
  extraEngines?: { docs?: Record<string, (bus: EventBus) => DocStoreFactory>; blobs?: Record<string, () => BlobEngine> };
  /** Tests only: workers that replace the configured ones of the same name (a move's step-by-step tests record the `export` jobs). */
  extraWorkers?: WorkerDef[];
  /** The exports' options (move/export): tests cut small instances in parts and sweep often. */
  exports?: ExportsOptions;
  /** How often the retired sources of moves are looked for (move/transfer/retire.ts; default an hour): tests look often. */
  retiredSweepMs?: number;
  /** The lease of a folder copy under way (files/copy-journal.ts; default 30 s): tests that kill a process wait less. */
  copyLeaseMs?: number;
  /** The Redis locks' options (coordination.engine redis): tests shorten the lease. */
  locks?: RedisLocksOptions;
  /** Benchmarks only: false leaves the index of the writes out of PostgreSQL's writes (bench/write-index.bench.ts's reference). */
  pgWriteIndex?: boolean;
  /** Benchmarks only: false makes every intent of the install journal wait for its own flush on PostgreSQL (bench/apps-install-pg.bench.ts's reference). */
  orderedIntents?: boolean;
  /** Where the routes' compiled schemas are read (server/schema-code.ts; default dist/schemas): tests compile their own. */
  schemaCode?: CompiledCode;
}

export async function createHearth(config: HearthConfig, logger: Logger = createLogger(config), opts: HearthOptions = {}): Promise<Hearth> {
  const dataDir = resolve(config.dataDir);
  // what this process keeps alone in dataDir: with any of it, one process per data directory, enforced before anything
  // is opened; on PostgreSQL and Redis, dataDir holds nothing another process may not share (blobs.engine local: file
  // contents under fresh keys, on a disk processes share or not; apps-code-cache/ is a cache)
  const alone = keptAlone(config);
  const release = alone.length > 0 ? takeDataDir(dataDir, alone) : () => {};
  // the connections a start that fails must drop: a Redis client reconnecting or a pool's idle connection would keep the
  // process alive after its error (`hearth serve` printed it and then ran on, doing nothing, until killed)
  const opened: Array<() => unknown> = [];
  try {
    const embedded = [...alone, ...(config.blobs.engine === 'local' ? ['file contents (blobs.engine local)'] : [])];
    if (embedded.length > 0 && embedded.length < 3) logger.warn(`with these engines, this process keeps alone ${embedded.join(', ')}: several processes need the three scale-out engines (see README, Scale-out)`);
    const hearth = await assemble(config, dataDir, logger, opts, opened);
    const close = hearth.close;
    let closed: Promise<void> | null = null;
    return Object.assign(hearth, { close: () => (closed ??= close().finally(release)) });
  } catch (e) {
    await Promise.all(opened.map(async (drop) => {
      try {
        await drop();
      } catch {
        // dropped as far as it goes: the start's own error is the one to report
      }
    }));
    release();
    throw e;
  }
}

/** `lockDataDir` for `hearth serve`, refused with what to do. */
function takeDataDir(dataDir: string, alone: string[]): () => void {
  try {
    return lockDataDir(dataDir, 'hearth serve');
  } catch (e) {
    if (!(e instanceof DataDirInUse)) throw e;
    throw new DataDirInUse(dataDir, e.holder, `${e.message}; with these engines a server keeps ${alone.join(', ')} alone in its data directory, so one server per data directory: stop that one${e.holder ? ` (kill ${e.holder.pid})` : ''}, or start this one on another directory (--data-dir DIR or HEARTH_DATA_DIR), or use the scale-out engines (docs.engine postgres and coordination.engine redis: see README, Scale-out)`);
  }
}

async function assemble(config: HearthConfig, dataDir: string, logger: Logger, opts: HearthOptions, opened: Array<() => unknown>): Promise<Hearth> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // the scale-out connections, one of each per process, shared by every part that keeps state there (src/engines)
  // docs.url given: the pool, for the PostgreSQL document engine (new instances' when docs.engine is postgres, else
  // the target of `hearth instances migrate --to postgres`); the server's own state goes there with docs.engine postgres
  const pgPool = config.docs.url ? createPgPool({ url: config.docs.url, max: config.docs.poolSize, name: 'serve', uses: config.docs.connectionUses ?? DEFAULTS.docs.connectionUses }) : null;
  const statePg = config.docs.engine === 'postgres' ? pgPool : null;
  const redis = config.coordination.engine === 'redis' && config.coordination.url ? createRedisConnections(config.coordination.url, config.coordination.prefix, 'serve') : null;
  if (pgPool) opened.push(() => pgPool.end());
  if (redis) opened.push(() => redis.disconnect());
  // the bus, locks, invalidations, limits and lock-outs: in this process, or shared through Redis (src/coordination)
  const coordination = createCoordination(redis, opts.locks ? { locks: opts.locks } : {});
  await coordination.ready();
  const bus = coordination.bus;
  const realtime = new InProcessHub(bus, realtimeView, coordination.notices);
  // one thread closes instance databases and checkpoints registry.sqlite and jobs.sqlite, off the event loop
  const sqliteThread = new OffThreadCloser({ idleMs: config.data.storeIdleSeconds * 1000 });
  // docs.engine postgres: the registry in the shared schema `hearth` of the documents' database (the name stays)
  const sqliteRegistry = statePg ? new PgInstanceRegistry(statePg, coordination.invalidation) : new SqliteInstanceRegistry(join(dataDir, 'registry.sqlite'), { checkpoints: sqliteThread, invalidation: coordination.invalidation });
  // the job mirror's writes (jobs/mirror.ts) repeat the engine's io.cozy.jobs events: only /data's changes feeds hear them
  const mirrorEvents = new InProcessBus();
  // each instance's engines (instances/engines.ts, routing.ts): storeOf and the file system's blobs pick them
  const instanceEngines = statePg ? new PgInstanceEngines(statePg) : new SqliteInstanceEngines(join(dataDir, 'registry.sqlite'));
  const docEngines = new Map<string, DocStoreFactory>();
  const blobEngines = new Map<string, BlobEngine>();
  const router = new EngineRouter(instanceEngines, { docs: docEngines, blobs: blobEngines }, coordination.invalidation);
  const migrations = new Migrations(router, logger);
  const docsBus = divertBus(bus, new Set([JOBS_DOCTYPE]), mirrorEvents);
  const stores = new SqliteDocStoreFactory(dataDir, router.busFor('sqlite', docsBus), {
    sqliteThread,
    attachmentMaxBytes: config.data.attachmentMaxBytes,
    groupCommitMs: config.data.groupCommitMs,
    maxOpenStores: config.data.maxOpenStores,
    idleMs: config.data.storeIdleSeconds * 1000,
  });
  // docs.url given: the PostgreSQL document engine (data/postgres), the one of new instances when docs.engine is postgres
  if (pgPool) docEngines.set('postgres', new PgDocStoreFactory(pgPool, router.busFor('postgres', docsBus), { attachmentMaxBytes: config.data.attachmentMaxBytes, ...(opts.pgWriteIndex === false ? { writeIndex: false } : {}) }));
  // docs.engine postgres: sessions and WebDAV locks in the schema `hearth` too
  const sessions: SessionStore = statePg ? new PgSessionStore(statePg) : new SqliteSessionStore(join(dataDir, 'sessions.sqlite'));
  const davLocks = statePg ? new PgLockEngine(statePg) : new SqliteLockEngine(join(dataDir, 'dav-locks.sqlite'));
  const lockout = coordination.loginLockOut({ perSource: LOGIN_LOCKOUT, perInstance: LOGIN_LOCKOUT_SOURCES });
  docEngines.set('sqlite', stores);
  for (const [name, make] of Object.entries(opts.extraEngines?.docs ?? {})) docEngines.set(name, make(router.busFor(name, bus)));
  const storeOf = (instance: Instance) => router.storeOf(instance);
  // docs.engine postgres: shared by the processes, its bytes in the object store (or PostgreSQL): apps/code/engine.ts
  // per-context stack assets: bytes in the blob store's `assets` area, the index with the server's state
  const contextAssets = new ContextAssets(blobStoreArea(config.blobs, join(dataDir, 'instances'), 'assets'),
    statePg ? new PgContextAssetIndex(statePg) : new SqliteContextAssetIndex(join(dataDir, 'assets.sqlite')), coordination.invalidation);
  const appCode = createAppCodeStore({ dataDir, blobs: config.blobs, pg: statePg, locks: coordination.locks, invalidation: coordination.invalidation, intentLeaseMs: config.apps.intentLeaseSeconds * 1000 });
  const appFiles = new StoredAppFiles(appCode);
  await dropRunRefs(appCode);
  // blobs.engine local: next to docs.sqlite, in instances/<id>/files/ and instances/<id>/thumbs/ (files/thumbnails/state.ts)
  const blobs = new LocalBlobStore(join(dataDir, 'instances'));
  const thumbs = new LocalBlobStore(join(dataDir, 'instances'), 'thumbs');
  blobEngines.set('local', { files: blobs, thumbs });
  // the object stores whose settings are given (files/blobs/engine.ts): blobs.engine names the one of new instances, and
  // `hearth instances migrate --blobs-to` moves an instance between them
  for (const engine of ['swift', 's3'] as const) {
    if (!objectStoreConfigured(config.blobs, engine)) continue;
    const stores = createBlobStores({ ...config.blobs, engine }, join(dataDir, 'instances'));
    blobEngines.set(engine, { files: stores.blobs, thumbs: stores.thumbs });
  }
  for (const [name, make] of Object.entries(opts.extraEngines?.blobs ?? {})) blobEngines.set(name, make());
  // the folder copies under way (files/copy-journal.ts): in the schema `hearth` with docs.engine postgres, where any
  // process undoes those of a process that died; else in copies.sqlite, this process's alone (undone at its next start)
  const copyJournal = new CopyJournal(
    statePg ? new PgCopyJournalStore(statePg) : new SqliteCopyJournalStore(join(dataDir, 'copies.sqlite'), { alone: true, legacyDir: join(dataDir, 'copies') }),
    opts.copyLeaseMs === undefined ? {} : { leaseMs: opts.copyLeaseMs },
  );
  // a blob the file system no longer names stays while an export of the instance holds it (move/export/snapshot.ts)
  const exportStore = openExportStore(dataDir, statePg);
  const exportClock = opts.exports?.now ?? Date.now;
  const fileBlobs = router.blobStore('files');
  const vfs = new Vfs({
    storeOf, blobs: new HeldBlobStore(fileBlobs, { keep: (ns, key) => exportStore.pin(ns, key, exportClock()), held: (ns) => exportStore.held(ns, exportClock()) }), thumbs: router.blobStore('thumbs'),
    locks: coordination.locks, versions: config.files.versions,
  }, copyJournal);
  // Destroying an instance also removes its data, in steps that can be taken again: the first, durable, takes it out
  // of the registry (its domain stays taken); a process that dies before the last finishes at its next start.
  const finishDestroy = async (instance: Instance) => {
    await builtinState.forget(instance.id);
    await moveStates.forget(instance.id);
    await avatars.remove(instance.id);
    await wallpapers.remove(instance.id);
    await movePending.forget(instance.id);
    await exportsPart.store.forget(instance.id);
    await jobs.dropInstance(instance.id);
    await appCode.releaseInstance(instance.id);
    await appCode.gc();
    // one after the other: on Swift the second finds the instance's container empty and removes it
    await blobs.drop(instance.id);
    await thumbs.drop(instance.id);
    await stores.destroy(instance.id);
    // the instance's data on the other engines (a migration's copies included), then its engines' record
    for (const [name, factory] of docEngines) if (name !== 'sqlite') await factory.destroy(instance.id);
    for (const [name, engine] of blobEngines) {
      if (name === 'local') continue;
      // one after the other: on Swift the second finds the instance's container empty and removes it
      await engine.files.drop(instance.id);
      await engine.thumbs.drop(instance.id);
    }
    await instanceEngines.remove(instance.id);
    router.changed(instance.id);
    await sessions.deleteAll(instance);
    await sessions.events.deleteAll(instance);
    await davLocks.dropNamespace(instance.id);
    await sqliteRegistry.endDestroy(instance.id);
  };
  // what the stack did with the built-in apps on each instance (apps/builtin/state.ts)
  const builtinState = statePg ? new PgBuiltinState(statePg) : new BuiltinState(join(dataDir, 'apps-builtin.sqlite'));
  const moveStates: MoveStateStore = new CachedMoveStates(statePg ? new PgMoveState(statePg) : new SqliteMoveState(join(dataDir, 'move.sqlite')), coordination.invalidation);
  // the avatars: in instances/<id>/avatar/, or in the schema `hearth` with docs.engine postgres (settings/avatar-pg.ts)
  const avatars: Avatars = statePg ? new PgAvatars(statePg) : new AvatarStore(join(dataDir, 'instances'));
  const wallpapers: Avatars = statePg ? new PgAvatars(statePg, 'wallpapers') : new AvatarStore(join(dataDir, 'instances'), 'wallpaper');
  // what a move between servers keeps from page to page (move/transfer/pending.ts)
  const movePending: PendingStore = statePg ? new PgPending(statePg) : new SqlitePending(join(dataDir, 'move-pending.sqlite'));
  const registry: InstanceRegistry = Object.assign(Object.create(sqliteRegistry) as InstanceRegistry, {
    // a new instance (admin API, CLI, the dev instance) gets the built-in apps, in the background
    async create(input: Parameters<InstanceRegistry['create']>[0]) {
      const instance = await sqliteRegistry.create(input);
      // the configured engines are those of new instances (the embedded ones while a scale-out engine is not wired yet)
      await instanceEngines.set(instance.id, { docs: docEngines.has(config.docs.engine) ? config.docs.engine : 'sqlite', blobs: blobEngines.has(config.blobs.engine) ? config.blobs.engine : 'local' });
      builtinApps.schedule(instance);
      return instance;
    },
    // an instance being moved answers 503 to every request (instances/routing.ts)
    async findByHost(host: string) {
      const instance = await sqliteRegistry.findByHost(host);
      if (instance && router.isBlocked(instance.id)) throw blockedError();
      return instance;
    },
    async destroy(domain: string) {
      const found = await sqliteRegistry.get(domain);
      if (found && migrations.isRunning(found.id)) throw new Conflict(`${domain} is being moved to other engines: destroy it once the migration is over`);
      await finishDestroy(await sqliteRegistry.beginDestroy(domain));
    },
  });
  const tokens = new TokenService(registry, coordination.invalidation);
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
    // the scale-out servers, each named in /status (cozy-stack names couchdb, redis… the same way)
    ...(pgPool ? [{ name: 'postgres', check: () => timed(() => pgPool.query('SELECT 1')) }] : []),
    ...(redis ? [{ name: 'redis', check: () => timed(() => redis.commands.ping()) }] : []),
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
  // a move between servers: what the export and import workers tell the other server at their end (move/transfer/hooks.ts)
  const moveHooks = createMoveHooks({
    registry: sqliteRegistry, pending: movePending, moveStates, jobs: { push: (d, s) => jobs.engine.push(d, s) }, publicUrl: linkOf, subdomains: config.apps.subdomains,
    exportLink: (instance, doc) => exportsPart.exports.linkOf(instance, doc._id), logger, allowPrivate: config.imports.allowPrivateUrls,
  });
  // imports (move/import): the job engine, the scheduler and the installer are read when an import runs
  const imports = new Imports({
    moveStates, storeOf, fs: vfs.fs, triggers: () => jobs.scheduler, engine: () => jobs.engine, install: (instance, kind, slug) => reinstall(installer, instance, kind, slug),
    reset: {
      dropSessions: (instance) => sessions.deleteAll(instance),
      cleanAccounts: (instance, signal) => cleanAllAccounts({
        storeOf, engine: jobs.engine, installer, logger, installMissing: async (i, slug) => void (await reinstall(installer, i, 'konnector', slug)),
      }, instance, signal),
      apps: {
        uninstall: async (instance, kind, slug) => void (await installer.uninstall(instance, kind, slug)),
        builtins: { forget: (instance) => builtinState.forget(instance.id), install: async (instance) => void (await builtinApps.ensure(instance)) },
      },
    },
    instanceByDomain: (domain) => sqliteRegistry.get(domain), tmpDir: join(dataDir, 'imports-tmp'), logger,
    policy: { allowPrivate: config.imports.allowPrivateUrls, timeoutMs: 60_000 }, hooks: moveHooks,
    avatar: async (instance, data) => avatars.write(instance.id, (await processAvatar(data)).data),
    wallpaper: async (instance, data) => wallpapers.write(instance.id, (await processAvatar(data, WALLPAPER_LIMITS.size)).data),
  });
  const exportsPart = createExports({ store: exportStore, blobs: fileBlobs, hooks: moveHooks, avatar: async (instance: Instance) => (await avatars.read(instance.id))?.data ?? null, wallpaper: async (instance: Instance) => (await wallpapers.read(instance.id))?.data ?? null, mirrored: () => jobs.mirrored(), bus, fs: vfs.fs, storeOf, jobs: () => ({ push: (d, s) => jobs.engine.push(d, s), get: (d, id) => jobs.engine.broker.get(d, id) }), secret: async (instance) => (await registry.secrets(instance)).session, publicUrl: linkOf, subdomains: config.apps.subdomains, instanceOf: (domain) => sqliteRegistry.get(domain), logger, ...opts.exports });
  const notifications = new NotificationCenter({ config, storeOf, logger, link: linkOf, jobs: () => jobs, secret: async (instance) => (await registry.secrets(instance)).session });
  // the DocStore of the instance that has this id and domain now (a job's or a trigger's), or null
  const storeOfInstance = async (domain: string, instanceId: string) => {
    const instance = await sqliteRegistry.get(domain);
    return instance?.id === instanceId ? storeOf(instance) : null;
  };
  const jobs: JobSystem = createJobSystem({
    dataDir, bus, localEvents: coordination.localEvents, logger, registry: sqliteRegistry, trashRetentionDays: config.files.trashRetentionDays, checkpoints: sqliteThread,
    pg: statePg,
    workers: [...buildWorkers({ config, vfs, bus, mailer, storeOf, perms, tokens, registry: sqliteRegistry, logger, linkSecret: async (instance) => (await registry.secrets(instance)).session, publicUrl: linkOf, installed: installedCodeOf(storeOf, appCode) }), notifications.worker(), imports.worker(), exportsPart.exports.worker(), konnectorUninstallWorker(() => ({ storeOf, engine: jobs.engine, installer, logger })), ...(opts.extraWorkers ?? [])],
    eventHooks: [{ doctype: 'io.cozy.files', jobFor: thumbnailJobFor }],
    mirror: { storeFor: storeOfInstance }, eventSweep: { storeFor: storeOfInstance, stamps: (asked) => router.writeStamps(asked), periodMs: config.jobs.eventSweepMs },
  });
  const shutdown = new AbortController();
  const builtinDir = builtinRegistryDir(config, logger);
  const appRegistries = registriesFromConfig(config, logger, { builtinDir });
  // an install writes its triggers' io.cozy.triggers copies in its own commit: the job mirror then finds them made
  const triggerCopy = (t: { _id: string }) => ({ doctype: TRIGGERS_DOCTYPE, doc: triggerMirrorDoc(t as TriggerDoc) });
  const installer = new Installer({
    storeOf, locks: coordination.locks, perms, triggers: jobs.scheduler, skipPermissionsCheck: config.apps.permissionsSkipVerification, triggerCopy,
    code: appCodeOf(appCode, { dev: config.dev, limits: { maxEntries: config.apps.maxEntries, maxUnpackedBytes: config.apps.maxUnpackedBytes }, resolveRegistry: (slug, v) => appRegistries.resolveVersion(slug, v), openRegistryTarball: (v) => appRegistries.openTarball(v as Parameters<typeof appRegistries.openTarball>[0]),
      // docs.engine postgres: the code index, the triggers and an instance's documents on PostgreSQL share one pool, so one WAL
      ...(statePg && opts.orderedIntents !== false ? { orderedLog: async (instance: Instance) => (await router.choiceOf(instance.id)).docs === 'postgres' } : {}) }),
  });
  const startedAt = new Date();
  const builtinApps = new BuiltinApps({
    dir: builtinDir, state: builtinState, installer, registry: sqliteRegistry, logger, startedAt,
    first: config.settings.defaultRedirection.split('/')[0] ?? 'home',
  });
  const oauth = {
    clients: new OAuthClients(storeOf, async (instance) => (await registry.secrets(instance)).session), tokens, limiter: coordination.limiter,
    // docs.engine postgres: a code issued by one process is taken by any (oauth/codes-pg.ts); in memory otherwise.
    // One store: /auth/access_token takes the codes of /auth/authorize/move too (move/transfer)
    codes: statePg ? new PgAccessCodes(statePg) : new AccessCodes(),
  };
  checks.push(...opsStatusChecks({
    jobs: jobs.engine.broker, sessions,
    firstInstance: async () => (await registry.page({ limit: 1 }))[0] ?? null,
    stillThere: async (instance) => (await sqliteRegistry.get(instance.domain))?.id === instance.id,
    pingDocs: (instance) => router.storeOf(instance).ping(),
    ...(smtpConfigured(config) ? { smtpProbe: () => smtpProbe(config.mail) } : {}),
  }));
  const metrics = new HearthMetrics({ dataDir, instanceCount: () => registry.count() });
  // what acts on (or counts) a write listens to this process's own writes: once in the cluster
  const unobserveJobs = metrics.observeJobs(coordination.localEvents);
  const unwatchAccounts = watchAccountDeletions({ bus: coordination.localEvents, instanceOf: (domain) => sqliteRegistry.get(domain), storeOf, scheduler: jobs.scheduler, engine: jobs.engine, logger });
  metrics.countRealtimeConnections(() => realtime.connectionCount());
  // the registry's side of serving and intents: the store's page for a missing app, the lazy update of an index
  // (as on GET /apps/:slug), the web apps that could serve an intent
  const latest = (slug: string, channel: Channel) => appRegistries.latestVersion(slug, channel);
  const apps = createAppServing({
    config, registry, sessions, tokens, perms, storeOf, settings: sqliteRegistry, files: opts.appFiles ?? appFiles,
    inRegistry: (_instance, slug) => inRegistry(appRegistries)(slug),
    lazyUpdate: (instance, app) => lazyUpdate(installer, latest, instance, 'webapp', app),
    clientsLimitExceeded: (instance) => clientsLimitExceeded(config, oauth.clients, instance),
    contextAssets,
  });
  const moveTransfer = {
    config, registry, sessions, tokens, perms, clients: oauth.clients, codes: oauth.codes, limiter: oauth.limiter, lockout, twoFactor: sqliteRegistry,
    secondFactor: (instance: Instance) => startSecondFactor({ twoFactor: sqliteRegistry, registry, limiter: oauth.limiter, mailer }, instance, 'move'),
    moveStates, movedStates: moveStates, pending: movePending, jobs: jobs.engine, scheduler: jobs.scheduler, usage: (instance: Instance) => vfs.fs.diskUsage(instance), publicUrl: linkOf,
  };
  const audienceOf = async (instance: Instance, token: string) => (await tokens.verify(instance, token).catch(() => null))?.aud ?? null;
  const publicApp = await buildPublicApp({ imports: { imports, moveStates, audienceOf }, moveTransfer, apps, installer, appFiles, appCode, appRegistries, registryWebapps: registryWebapps(appRegistries), notifications, metrics, realtime, config, registry, logger, checks, bus: mergeBuses(bus, mirrorEvents), perms, storeOf, oauth, auth: { sessions, lockout, limiter: oauth.limiter, mailer, twoFactor: sqliteRegistry, passphraseTokens: sqliteRegistry, subdomains: config.apps.subdomains, defaultApp: apps.defaultApp, moveConsent: moveConsentFlow(moveTransfer) }, vfs, davLocks, shutdown: shutdown.signal, jobs,
    schemaCode: opts.schemaCode, settings: { store: sqliteRegistry, avatars, wallpapers, emailChanges: sqliteRegistry.emailChanges }, transforms: chainTransforms(accountTransforms(async (instance) => (await registry.secrets(instance)).session), fileDocTransforms) });
  exportsPart.registerRoutes(publicApp, { perms, limiter: oauth.limiter, cspDisabled: config.apps.cspDisabled });
  const adminApp = Fastify({ loggerInstance: logger.child({ server: 'admin' }) as FastifyBaseLogger, logController: logControllerFor(config), bodyLimit: 1024 * 1024 });
  adminApp.setErrorHandler(errorHandler);
  addJsonParser(adminApp, 'application/json');
  installSchemaCompilers(adminApp, schemaOptions(config.server, opts.schemaCode));
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
  registerMigrateAdminRoutes(adminApp, { registry, migrations });
  registerImportAdminRoutes(adminApp, { registry, imports });
  exportsPart.registerAdminRoutes(adminApp, { registry });
  registerContextAssetAdminRoutes(adminApp, { assets: contextAssets });
  registerAppsAdminRoutes(adminApp, { registry, installer, storeOf, subdomains: config.apps.subdomains });
  await registerOpsAdminRoutes(adminApp, { metrics, publicDocument: () => publicApp.openApiDocument(), version: versionInfo(config.dev).version, exampleInstance: config.dev ? config.devInstance : 'alice.example.org' });
  for (const instance of await sqliteRegistry.pendingDestroys()) {
    logger.warn({ domain: instance.domain, instance_id: instance.id }, 'finishing the destroy of an instance that a stop cut short');
    await finishDestroy(instance);
  }
  const copySweep = sweepCutCopies({ journal: copyJournal, fs: vfs.fs, tree: vfs.tree, instanceOf: (domain) => sqliteRegistry.get(domain), logger });
  await copySweep.first;
  await migrations.recover();
  // the installs a stop left in flight (their intents in the code store's journal: apps/install/journal.ts), finished or undone
  const inFlight = await installer.recoverInFlight(async (domain, id) => {
    const found = await sqliteRegistry.get(domain);
    return found?.id === id ? found : ((await sqliteRegistry.list()).find((i) => i.id === id) ?? null);
  }, (later) => {
    // the sweeps after the start: the operations of a process that went away while this one runs
    if (later instanceof Error) logger.warn({ err: later }, 'the sweep of installs in flight failed: the next one tries again');
    else logger.warn(later, 'installs left in flight by a process that went away were finished or undone');
  });
  if (inFlight.finished + inFlight.undone > 0) logger.warn(inFlight, 'installs a stop left in flight were finished or undone');
  if (inFlight.left > 0) logger.warn({ left: inFlight.left }, 'installs in flight left as they are: another process wrote their app docs meanwhile (a later sweep resolves them)');
  // after a machine crash under the local code store (installs' intents committed without their fsync): every app aligned with its doc
  const reconciled = await reconcileLostIntents({ store: appCode, storeOf, perms, triggers: jobs.scheduler }, () => sqliteRegistry.list());
  if (reconciled.instances + reconciled.failed > 0) logger.warn(reconciled, 'the machine stopped under the last start: every installed app was aligned with its doc');
  // a data directory of the versions that wrote code references without their fsync, after a crash: the references the app docs name

  const codeRefsRestored = restoreCodeRefs(appCode, () => sqliteRegistry.list(), storeOf).then(
    (n) => { if (appCode.refsStale === false && n > 0) logger.warn({ restored: n }, 'app code references lost in a crash were given back from the app docs'); },
    (e: unknown) => logger.error({ err: e instanceof Error ? e.message : String(e) }, 'the app code references could not be restored: gc stays off until the next start'),
  );
  await jobs.start();
  await imports.recover();
  exportsPart.exports.start();
  // the source of a finalized move is deleted `move.retiredRetentionDays` after (move/transfer/retire.ts)
  const retired = new RetiredInstances({ moveStates, registry, retentionDays: config.move.retiredRetentionDays, logger, ...(opts.retiredSweepMs !== undefined ? { everyMs: opts.retiredSweepMs } : {}) });
  retired.start();
  let closing: Promise<void> | null = null;
  return {
    config, logger, bus, registry, tokens, sessions, lockout, perms, mailer, appToken, storeOf, openStores: () => stores.openCount(), vfs, jobs, notifications, metrics, realtime, publicUrl: linkOf, appCode, installer, migrations, builtinApps, moveStates, imports, movePending, exports: exportsPart.exports, publicApp, adminApp,
    close() {
      closing ??= (async () => {
        shutdown.abort();
        await codeRefsRestored;
        await builtinApps.close();
        await Promise.all([publicApp.close(), adminApp.close()]);
        await copySweep.stop();
        await installer.close();
        await retired.close();
        realtime.close();
        unwatchAccounts();
        await jobs.close();
        unobserveJobs();
        await stores.close();
        await mailer.close();
        await sqliteRegistry.close();
        await sqliteThread.shutdown();
        await sessions.close();
        await copyJournal.close();
        davLocks.close();
        await builtinState.close();
        await moveStates.close();
        await contextAssets.close();
        await movePending.close();
        await exportsPart.close();
        for (const [name, factory] of docEngines) if (name !== 'sqlite') await factory.close();
        for (const [name, engine] of blobEngines) if (name !== 'local') await Promise.all([engine.files.close(), engine.thumbs.close()]);
        router.close();
        await instanceEngines.close();
        await Promise.all([blobs.close(), thumbs.close(), appCode.close()]);
        coordination.close();
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
  // a second after the start, off its path (koffi is loaded for it): glibc keeps its initial thresholds (common/malloc-trim.ts)
  setTimeout(() => hearth.logger.debug({ fixed: fixMallocThresholds() }, 'malloc thresholds'), 1000).unref();
  // idle for server.idleGcSeconds: one compacting garbage collection, so that V8 gives back what it grew under load (server/idle-gc.ts)
  const idleGc = config.server.idleGcSeconds > 0
    ? new IdleGc({ idleMs: config.server.idleGcSeconds * 1000, onCollect: (ms) => hearth.logger.debug({ ms: Math.round(ms) }, 'idle: compacting garbage collection') })
    : null;
  for (const app of [hearth.publicApp, hearth.adminApp]) idleGc?.watch(app.server);
  hearth.logger.info({ publicUrl, adminUrl }, 'hearth is ready');
  return { publicUrl, adminUrl, close: () => {
    idleGc?.stop();
    return hearth.close();
  } };
}

/** How long `probe` takes, in ms (a /status check). */
async function timed(probe: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await probe();
  return performance.now() - start;
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
