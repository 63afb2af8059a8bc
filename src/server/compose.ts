/**
 * The composition root: builds every component with plain constructors and
 * wires them together. Nothing else creates infrastructure.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { InProcessBus, type EventBus } from '../common/bus.js';
import type { HearthConfig } from '../config/types.js';
import { TokenService } from '../auth/tokens.js';
import { SessionStore } from '../auth/sessions.js';
import { SqliteDocStoreFactory } from '../data/sqlite/factory.js';
import type { DocStore } from '../data/store.js';
import { SqliteInstanceRegistry } from '../instances/registry-sqlite.js';
import { registerAdminRoutes } from '../instances/admin-routes.js';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import { PermissionResolver } from '../permissions/resolve.js';
import { LOGIN_LOCKOUT, LockOut, MemoryRateLimiter } from '../limits/index.js';
import { OAuthClients } from '../oauth/clients.js';
import type { Mailer } from '../mail/mailer.js';
import { runStatus, versionInfo, type StatusCheck } from '../status/routes.js';
import { errorHandler } from './http-errors.js';
import { createLogger } from './logger.js';
import { buildPublicApp } from './public.js';

export interface Hearth {
  config: HearthConfig;
  logger: Logger;
  bus: EventBus;
  registry: InstanceRegistry;
  tokens: TokenService;
  sessions: SessionStore;
  lockout: LockOut;
  perms: PermissionResolver;
  mailer: Mailer;
  storeOf(instance: Instance): DocStore;
  publicApp: FastifyInstance;
  adminApp: FastifyInstance;
  close(): Promise<void>;
}

export async function createHearth(config: HearthConfig, logger: Logger = createLogger(config)): Promise<Hearth> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const bus = new InProcessBus();
  const sqliteRegistry = new SqliteInstanceRegistry(join(dataDir, 'registry.sqlite'));
  const stores = new SqliteDocStoreFactory(dataDir, bus, {
    attachmentMaxBytes: config.data.attachmentMaxBytes,
    groupCommitMs: config.data.groupCommitMs,
  });
  const sessions = new SessionStore(join(dataDir, 'sessions.sqlite'));
  const lockout = new LockOut(LOGIN_LOCKOUT);
  const storeOf = (instance: Instance) => stores.open(instance.domain, instance.id);
  // Destroying an instance also removes its data.
  const registry: InstanceRegistry = Object.assign(Object.create(sqliteRegistry) as InstanceRegistry, {
    async destroy(domain: string) {
      const instance = await sqliteRegistry.get(domain);
      await sqliteRegistry.destroy(domain);
      if (instance) await stores.destroy(instance.id);
      if (instance) sessions.deleteAll(instance);
    },
  });
  const tokens = new TokenService(registry);
  const mailer = lazyMailer(config);
  const perms = new PermissionResolver(tokens, storeOf);
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
  const shutdown = new AbortController();
  const oauth = { clients: new OAuthClients(storeOf), tokens, limiter: new MemoryRateLimiter() };
  const publicApp = await buildPublicApp({ config, registry, logger, checks, bus, perms, storeOf, oauth, auth: { sessions, lockout, limiter: oauth.limiter, mailer, twoFactor: sqliteRegistry }, shutdown: shutdown.signal });
  const adminApp = Fastify({ loggerInstance: logger.child({ server: 'admin' }) as FastifyBaseLogger, bodyLimit: 1024 * 1024 });
  adminApp.setErrorHandler(errorHandler);
  await registerAdminRoutes(adminApp, {
    config,
    registry,
    tokens,
    grantApp: (instance, slug, scope) => perms.grantApp(instance, slug, scope),
    status: () => runStatus(checks),
    version: versionInfo(config.dev),
    unlockLogin: (instance) => lockout.unlock(instance.id),
  });
  let closing: Promise<void> | null = null;
  return {
    config, logger, bus, registry, tokens, sessions, lockout, perms, mailer, storeOf, publicApp, adminApp,
    close() {
      closing ??= (async () => {
        shutdown.abort();
        await Promise.all([publicApp.close(), adminApp.close()]);
        await stores.close();
        await mailer.close();
        await sqliteRegistry.close();
        sessions.close();
      })();
      return closing;
    },
  };
}

/** `hearth serve`: both servers listening, and in --dev the default instance. */
export async function startHearth(config: HearthConfig): Promise<{ publicUrl: string; adminUrl: string; close(): Promise<void> }> {
  const hearth = await createHearth(config);
  if (config.dev) await ensureDevInstance(hearth);
  const publicUrl = await hearth.publicApp.listen({ host: config.server.host, port: config.server.port });
  const adminUrl = await hearth.adminApp.listen({ host: config.admin.host, port: config.admin.port });
  hearth.logger.info({ publicUrl, adminUrl }, 'hearth is ready');
  return { publicUrl, adminUrl, close: () => hearth.close() };
}

async function ensureDevInstance(hearth: Hearth): Promise<void> {
  // the default dev instance follows --port (hearth.localhost:<port>)
  const { devInstance, server } = hearth.config;
  const domain = devInstance === 'hearth.localhost:8080' && server.port !== 8080 && server.port !== 0 ? `hearth.localhost:${server.port}` : devInstance;
  if (await hearth.registry.get(domain)) return;
  const passphrase = randomBytes(12).toString('base64url');
  const instance = await hearth.registry.create({ domain, passphrase, publicName: 'Hearth owner' });
  const token = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'cli', scope: 'io.cozy.contacts io.cozy.notes' });
  const url = `http://${domain}`;
  process.stdout.write(
    [
      '',
      `  A new instance was created for ${url}`,
      `  Owner passphrase (shown once, keep it): ${passphrase}`,
      '',
      '  A CLI token for io.cozy.contacts and io.cozy.notes, valid 30 minutes:',
      `    ${token}`,
      '  Get more with:  node bin/hearth.js instances token-cli ' + domain + ' io.cozy.contacts',
      '  Try it:',
      `    curl -H "Authorization: Bearer $TOKEN" ${url}/data/io.cozy.contacts/_all_docs`,
      '',
    ].join('\n') + '\n',
  );
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
