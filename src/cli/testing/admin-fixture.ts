/**
 * Test support only (imported by *.test.ts, never by the CLI): the admin Fastify app wired like
 * server/compose.ts on a real SQLite registry in a temporary directory (removed on close), with the
 * grants recorded instead of written, so that admin routes and CLI commands are tested alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { TokenService } from '../../auth/tokens.js';
import type { HearthConfig } from '../../config/types.js';
import { DEFAULTS } from '../../config/schema.js';
import { registerAdminRoutes, type AdminDeps } from '../../instances/admin-routes.js';
import { SqliteInstanceRegistry } from '../../instances/registry-sqlite.js';
import { InProcessBus } from '../../common/bus.js';
import { InProcessLocks } from '../../common/locks.js';
import { SqliteDocStoreFactory } from '../../data/sqlite/factory.js';
import { LocalBlobStore } from '../../files/blobs/local.js';
import { fsck } from '../../files/fsck.js';
import { Vfs } from '../../files/vfs.js';
import { errorHandler } from '../../server/http-errors.js';
import { installSchemaCompilers } from '../../server/validation.js';

export function testConfig(over: { dev?: boolean; passphrase?: string | null; passphraseHash?: string | null } = {}): HearthConfig {
  const c = structuredClone(DEFAULTS);
  c.dev = over.dev ?? false;
  c.admin.passphrase = over.passphrase === undefined ? 'admin-secret' : over.passphrase;
  c.admin.passphraseHash = over.passphraseHash ?? null;
  return c;
}

export interface AdminFixture {
  app: FastifyInstance;
  registry: SqliteInstanceRegistry;
  tokens: TokenService;
  grants: Array<{ domain: string; kind: 'app' | 'konnector'; slug: string; scope: string | null }>;
  /** The instances' file systems (real SQLite stores and blobs in the same temporary directory). */
  vfs: Vfs;
}

/** A Fastify admin app with the routes, an error handler like the lead's, and recorded grants. */
export async function adminApp(config: HearthConfig = testConfig(), overrides: Partial<AdminDeps> = {}): Promise<AdminFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-admin-'));
  // few argon2/PBKDF2 rounds are not the point here: the default iterations make create() slow
  const registry = new SqliteInstanceRegistry(join(dir, 'registry.sqlite'), { kdfIterations: 1000 });
  const tokens = new TokenService(registry);
  const grants: AdminFixture['grants'] = [];
  const stores = new SqliteDocStoreFactory(dir, new InProcessBus(), { attachmentMaxBytes: 1e6, groupCommitMs: 0 });
  const vfs = new Vfs({ storeOf: (i) => stores.open(i.domain, i.id), blobs: new LocalBlobStore(join(dir, 'instances')), locks: new InProcessLocks() });
  const app = Fastify();
  app.addHook('onClose', async () => {
    await stores.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });
  app.setErrorHandler(errorHandler);
  installSchemaCompilers(app, { serializeResponses: true });
  await registerAdminRoutes(app, {
    config, registry, tokens,
    grant: async (i, kind, slug, scope) => void grants.push({ domain: i.domain, kind, slug, scope }),
    appSession: async () => ({ id: '0'.repeat(32), cookie: 'test-session-cookie' }),
    status: async () => ({ status: 'OK', message: 'OK', registry: 'healthy' }),
    version: { version: '0.1.0', build_mode: 'test', runtime_version: process.version },
    fsck: (instance, clean) => fsck(vfs.fs, instance, { clean }),
    ...overrides,
  });
  return { app, registry, tokens, grants, vfs };
}
