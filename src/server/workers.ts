/** The workers of this server, each built with its dependencies (called by compose.ts only). */
import { RunLogs } from '../jobs/run-logs.js';
import type { Logger } from 'pino';
import type { TokenService } from '../auth/tokens.js';
import type { EventBus } from '../common/bus.js';
import type { HearthConfig } from '../config/types.js';
import type { DocStore } from '../data/store.js';
import type { Vfs } from '../files/vfs.js';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import type { Mailer } from '../mail/mailer.js';
import type { PermissionResolver } from '../permissions/resolve.js';
import type { PermissionSet } from '../permissions/rules.js';
import type { WorkerDef } from '../jobs/types.js';
import { createThumbnailCheckWorker, createThumbnailWorker } from '../files/thumbnails/workers.js';
import { createKonnectorWorker, createServiceWorker, type SandboxWorkerDeps } from '../jobs/sandbox/workers.js';
import { cleanClientsWorker, cleanOldTrashedWorker, cleanUploadSessionsWorker, logWorker, sendmailWorker, trashFilesWorker, unzipWorker, zipWorker } from '../jobs/workers/index.js';

export interface WorkerDeps {
  config: HearthConfig;
  vfs: Vfs;
  /** Where the thumbnail worker says it made a file's thumbnails (io.cozy.files.thumbnails, for realtime). */
  bus?: EventBus;
  mailer: Mailer;
  storeOf(instance: Instance): DocStore;
  perms: PermissionResolver;
  tokens: TokenService;
  registry: InstanceRegistry;
  logger: Logger;
  /** The key material of thumbnail links (the instance's session secret, as for download links). */
  linkSecret(instance: Instance): Promise<Uint8Array>;
  /** The instance's address for code the stack runs (COZY_URL): `publicUrl` with the port the server listens on. */
  publicUrl(instance: Instance): string;
  /** The installed code of konnectors and web apps (apps/install/code.ts), run before the jobs.*Dir fallback. */
  installed?: SandboxWorkerDeps['installed'];
}

export function buildWorkers(deps: WorkerDeps): WorkerDef[] {
  const { config, vfs, mailer, storeOf } = deps;
  // jobs act with the rights their token has when they run (a revoked app's jobs read and write nothing)
  const rightsNow = (instance: Instance, set: PermissionSet) => deps.perms.current(instance, set);
  return [
    logWorker(),
    sendmailWorker({ vfs, mailer, config, rightsNow }),
    zipWorker({ vfs, rightsNow }),
    unzipWorker({ vfs, rightsNow }),
    trashFilesWorker({ vfs }),
    cleanOldTrashedWorker({ vfs, config }),
    cleanUploadSessionsWorker({ vfs }),
    cleanClientsWorker({ storeOf }),
    createThumbnailWorker({ vfs, linkSecret: deps.linkSecret, ...(deps.bus ? { bus: deps.bus } : {}) }),
    createThumbnailCheckWorker({ vfs, linkSecret: deps.linkSecret, ...(deps.bus ? { bus: deps.bus } : {}) }),
    createKonnectorWorker({ config, perms: deps.perms, tokens: deps.tokens, publicUrl: deps.publicUrl, runLogs: new RunLogs(storeOf), ...(deps.installed ? { installed: deps.installed } : {}) }),
    createServiceWorker({ config, perms: deps.perms, tokens: deps.tokens, publicUrl: deps.publicUrl, ...(deps.installed ? { installed: deps.installed } : {}) }),
  ];
}

/**
 * The address of an instance in the links the stack builds where no request names one (COZY_URL, mails of
 * notifications): http for loopback names (development, tests), https otherwise. A dev instance created on
 * another port is named on `port`, the one the server listens on now, when it answers there (its alias with
 * that port: server/dev-instance.ts), since its first port may serve nothing any more.
 */
export function publicUrl(instance: Pick<Instance, 'domain' | 'aliases'>, port: number | null = null): string {
  const here = port === null ? null : instance.domain.replace(/:\d+$/, `:${port}`);
  const domain = here !== null && here !== instance.domain && /:\d+$/.test(instance.domain) && instance.aliases.includes(here) ? here : instance.domain;
  const host = domain.replace(/:\d+$/, '');
  const loopback = host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]';
  return `${loopback ? 'http' : 'https'}://${domain}`;
}
